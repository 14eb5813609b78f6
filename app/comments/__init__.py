"""Working together on an incident in writing: handlers' internal work notes, comments the requester
reads and writes, and @mentions that put the incident in a colleague's inbox."""
