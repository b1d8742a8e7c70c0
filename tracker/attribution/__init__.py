"""Conversions and who earned them: the S2S API, the pixel and landing helper, carriers (token, reference
code, coupon, customer keys), customer bindings, deal registrations, and the signals other features hear."""
