"""Jobs views: kiosk (issue 14; being built)."""
