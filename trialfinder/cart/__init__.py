"""CAR-T intelligence: the vocabulary (data), reading eligibility text, and the classifiers."""
