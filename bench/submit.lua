-- wrk script of bench_submissions.py: every request a fresh response_id, the same answers.
-- Arguments after `--`: <request path> <answers JSON> [<max requests per thread>]

local counter = 0
local path, answers, limit
local prefix

function init(args)
  path = args[1]
  answers = args[2]
  limit = tonumber(args[3] or "0")
  -- Distinct per thread and run: seeded from the clock and the thread's table address.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  prefix = string.format("%04x%04x-%04x-4%03x",
    math.random(0, 65535), math.random(0, 65535), math.random(0, 65535), math.random(0, 4095))
end

function request()
  counter = counter + 1
  local id = string.format("%s-8%03x-%012x", prefix, math.random(0, 4095), counter)
  local body = '{"response_id":"' .. id .. '","version":1,"channel":"bench","answers":' .. answers .. '}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if limit > 0 and counter >= limit then
    wrk.thread:stop()
  end
end
