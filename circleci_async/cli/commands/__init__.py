"""The commands, one module per family. Each parses its options, calls the library and hands
the answer to :mod:`..render`; the protocol (pagination, rate limits, retries, polling,
downloads) is all in the library.

A command module imports little more than click when it is loaded (``--help`` loads them all,
and a test checks that aiohttp and the client stay out); rich, the renderers and the library
calls are imported inside the command, when it runs.
"""
