"""Reading raw article files and cleaning them into Article records."""
