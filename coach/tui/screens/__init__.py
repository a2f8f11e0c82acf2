"""The app's screens: home, practice (scenario picker, run, score card), live, review, settings."""
