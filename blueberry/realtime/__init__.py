"""The live backbone: events, the per-process Redis hub, SSE and websocket plumbing."""
