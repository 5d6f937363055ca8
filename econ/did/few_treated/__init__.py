"""Few treated units: synthetic control and synthetic difference-in-differences."""
