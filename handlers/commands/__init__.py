"""The `/edi` commands, one module per audience: reading, status (an action's owners), me (your own
settings), admin (people and owners) and plan (a plan's settings); `handlers.registry` lists them all."""
