"""The management API's blueprints, one module per resource."""
