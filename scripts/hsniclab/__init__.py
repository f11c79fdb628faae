"""The hsnic lab: boot VM topologies with the hsnic NIC under QEMU and run
commands in them (scripts/lab.py is its command line)."""
