"""Jobs services: kiosk (issue 14; being built)."""
