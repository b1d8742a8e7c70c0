"""Applications to join the program: the public form, the admins' decision, the partner an approval creates."""
