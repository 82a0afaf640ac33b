"""The ground floor: settings, domain errors, text and file primitives shared by every stage."""
