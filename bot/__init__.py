"""newsbot's user-facing edges: the ``newsbot`` command line and the Discord bot.

Importing this package imports neither discord.py nor the model; each command
loads what it needs.
"""
