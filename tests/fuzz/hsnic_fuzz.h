/*
 * Helpers shared by hsnic's libFuzzer targets (hsnic_rx_fuzz.c,
 * hsnic_tx_fuzz.c): finding the device, MSI-X set-up, and the operations
 * every target offers (clock steps, bus mastering, DEV_CTRL).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HSNIC_FUZZ_H
#define HSNIC_FUZZ_H

#include "qemu/bswap.h"
#include "qemu/timer.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/net/hsnic_abi.h"
#include "fuzz.h"

/* The devfn of the machine's hsnic (for a target's pre_fuzz). */
static inline int hsnic_fuzz_find_devfn(QTestState *s)
{
    QPCIBus *bus = qpci_new_pc(s, NULL);
    int devfn, found = -1;

    for (devfn = 0; devfn < 256 && found < 0; devfn++) {
        QPCIDevice *dev = qpci_device_find(bus, devfn);

        if (dev && qpci_config_readw(dev, PCI_VENDOR_ID) ==
                   HSNIC_PCI_VENDOR_ID &&
            qpci_config_readw(dev, PCI_DEVICE_ID) == HSNIC_PCI_DEVICE_ID) {
            found = devfn;
        }
        g_free(dev);
    }
    qpci_free_pc(bus);
    g_assert(found >= 0);
    return found;
}

/* The machine of a target: q35, @ram of RAM, hsnic on a hub port. */
static inline GString *hsnic_fuzz_cmdline(const char *netdev,
                                          const char *ram, int qp,
                                          int max_ring)
{
    GString *cmd = g_string_new(TARGET_NAME);

    g_string_append_printf(cmd, " -display none -machine q35,accel=qtest "
                           "-m %s -nodefaults "
                           "-netdev hubport,id=%s,hubid=0 "
                           "-device hsnic,netdev=%s,queue-pairs=%d,"
                           "max-ring=%d %s ", ram, netdev, netdev, qp,
                           max_ring, getenv("HSNIC_FUZZ_ARGS") ?: "");
    return cmd;
}

/* MSI-X on, vectors 0 .. @nvec - 1 unmasked, messages to RAM. */
static inline void hsnic_fuzz_msix(QPCIDevice *dev, unsigned nvec,
                                   uint64_t msi_addr)
{
    unsigned v;

    qpci_msix_enable(dev);
    for (v = 0; v < nvec; v++) {
        uint64_t e = dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_LOWER_ADDR, msi_addr + 4 * v);
        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
        qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_DATA, v);
        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
}

/*
 * OP_CLOCK: advance the virtual clock by (1 + operand) microseconds, or
 * to the next timer deadline without an operand. The step is never 0
 * (qtest refuses a clock_step that does not advance the clock).
 */
static inline void hsnic_fuzz_clock(QTestState *qts, const uint8_t *d,
                                    size_t len)
{
    int64_t ns;

    if (len >= 2) {
        ns = 1000 * (1 + (int64_t)lduw_le_p(d));
    } else {
        ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL,
                                        QEMU_TIMER_ATTR_ALL);
        ns = ns < 0 ? 1000 : MAX(ns, 1);
    }
    qtest_clock_step(qts, ns);
    flush_events(qts);
}

/* OP_PCI_CMD: memory space on, bus mastering as bit 0 says. */
static inline void hsnic_fuzz_pci_cmd(QTestState *qts, QPCIDevice *dev,
                                      const uint8_t *d, size_t len)
{
    uint16_t cmd = PCI_COMMAND_MEMORY;

    if (len >= 1 && (d[0] & 1)) {
        cmd |= PCI_COMMAND_MASTER;
    }
    qpci_config_writew(dev, PCI_COMMAND, cmd);
    flush_events(qts);
}

/* OP_DEV_CTRL: the operand's byte to DEV_CTRL. */
static inline void hsnic_fuzz_dev_ctrl(QTestState *qts, QPCIDevice *dev,
                                       QPCIBar bar, const uint8_t *d,
                                       size_t len)
{
    if (len < 1) {
        return;
    }
    qpci_io_writel(dev, bar, HSNIC_REG_DEV_CTRL, d[0]);
    flush_events(qts);
}

#endif
