"""The platform-neutral command layer (`/edi …`): parse, authorise, change the store, reply as plain data."""
