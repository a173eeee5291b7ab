"""The commands, one module per family. Each parses its options, calls the library and hands
the answer to :mod:`..render`; the protocol (pagination, rate limits, retries, polling,
downloads) is all in the library.

A command module imports only click when it is loaded (``--help`` loads them all); the library,
rich and the downloader are imported inside the command, when it runs.
"""
