"""The role-play game (`sim game`): teams of stakeholders set their levers a year at a time, the model
re-runs, and a debrief shows what their decisions led to. See docs/workshop.md, "The role-play game"."""
