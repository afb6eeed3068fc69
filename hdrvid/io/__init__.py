"""Ground-floor file handling: probing media, atomic outputs, image files, checksums, reports."""
