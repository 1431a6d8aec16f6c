"""newsbot's core: a synchronous library that reads news articles, indexes their
passages and answers questions by quoting them. It never imports discord or bot."""

__version__ = "0.1.0"
