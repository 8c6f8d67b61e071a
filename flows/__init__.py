"""What happens when: the Prefect flows and tasks, and the ``lapak`` command."""
