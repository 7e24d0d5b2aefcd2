"""Checking answer keys against symgrad's derivations."""
