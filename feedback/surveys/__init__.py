"""Surveys: long-lived series of questions, their immutable versions and their waves.

The pure rules live in modules named for what they hold, and know nothing of the database:
`definition` (the questions of a version, their validation and localisation), `settings`
(survey settings and the wave schedule), `answers` (checking and normalising a submission),
`changes` (what publishing a version changes, and whether a trend's series breaks),
`schedule` (wave arithmetic) and `xlsform` (importing an XLSForm workbook as a draft).
"""
