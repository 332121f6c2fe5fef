"""Real time: clients connected over WebSocket receive new home-timeline entries, notifications and deletions."""
