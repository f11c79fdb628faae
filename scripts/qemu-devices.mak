# Devices of the lab's QEMU (x86_64-softmmu), configured with
# --without-default-devices (an allnoconfig: boards too are off unless
# listed): the q35 machine brings what it selects (ICH9 LPC and AHCI, the
# PC's ISA serial, RTC, PIT, PIC, ACPI); the rest is what the lab, the
# tests and `make bench` put on their command lines.
# Leaving out the ~100 other default devices (USB, sound, display, SCSI,
# NVMe, other NICs, TPM, IPMI ...) shortens a cold build
# (docs/lab.md#caches). scripts/build-qemu.sh copies this file into the
# source tree as configs/devices/x86_64-softmmu/hsnic-lab.mak.

# the only machine the lab boots
CONFIG_Q35=y

# the NIC models of the lab: hsnic and the peers it is compared with
CONFIG_HSNIC_PCI_EXPRESS=y
CONFIG_VIRTIO_NET=y
CONFIG_IGB_PCI_EXPRESS=y
CONFIG_E1000E_PCI_EXPRESS=y

# one PCIe root port per NIC (hot-plug under device_del/device_add)
CONFIG_PCIE_PORT=y

# the root and payload disks, and the in-guest agent's channel
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_SERIAL=y
