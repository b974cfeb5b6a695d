"""HTTP: the only package that knows about Litestar, status codes and media types."""
