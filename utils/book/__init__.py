"""What the book draws: `figures` (the chapters' diagrams) and `plots` (the labs' charts)."""
