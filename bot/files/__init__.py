"""The files and settings admins edit (availability, module sessions, office hours) and their checks.

Each reader names the file, line and entry of every problem, in words an admin understands. Nothing
here knows the conversation, the database or a channel.
"""
