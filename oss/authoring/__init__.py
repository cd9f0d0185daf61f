"""Tools for instruction authors: preview, lint, teach-in and live reload (see ``docs/authoring.md``)."""
