"""Pure numerical analyses of collected data; nothing here imports Django."""
