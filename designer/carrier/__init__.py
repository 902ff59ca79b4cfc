"""The carrier's side: its REST API client, the designer's carrier page logic, and the sealed password."""
