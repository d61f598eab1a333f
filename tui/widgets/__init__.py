"""Small widgets that draw what their screen hands them."""
