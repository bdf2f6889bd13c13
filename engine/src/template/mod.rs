//! Jinja templating configured as Ansible configures it: filters, tests, lookups, undefined rules.
