"""What every layer shares and that knows nothing of the application: time, text, languages."""
