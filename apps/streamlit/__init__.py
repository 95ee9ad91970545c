"""The Streamlit apps and what they share: `data` (reads and actions, scoped per staff
member) and `auth` (signing in). Imported as `apps.streamlit`, never put on sys.path as
`streamlit`, which would shadow the library."""
