//! Ansible inventories: INI and YAML sources, group_vars/host_vars, variable merging, host patterns.
