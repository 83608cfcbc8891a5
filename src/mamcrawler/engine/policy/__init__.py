"""The policy language: models, params, the YAML loader with file:line:col errors,
semantic checks, the JSON Schema, compiled rules and policy test cases."""
