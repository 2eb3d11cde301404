"""The rules of an EDI action plan, as pure functions on plain values: deadlines, owners, RAG, office hours,
the reminder ladder. Imports nothing else of edibot and no SDK."""
