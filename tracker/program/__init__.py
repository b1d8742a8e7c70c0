"""The program's directory: advertisers, their offers, partners, partner links, and who may see which."""
