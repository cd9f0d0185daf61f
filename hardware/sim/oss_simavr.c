/*
 * Runs the OSS firmware in simavr with its UART on a pseudo-terminal, so OSS can talk to the simulated
 * board as to a real one (see docs/hardware.md and tests/hardware/test_simavr.py).
 *
 *   oss_simavr build/oss-pedal.elf
 *   stdout: "port /dev/pts/N" once the UART is up, then "pin <port><bit> <0|1>" on every output change
 *   stdin:  "pin D2 0" pulls input D2 to GND (pressed), "pin D2 1" releases it; "quit" ends
 *
 * Build: make -C hardware/sim (needs libsimavr-dev and libsimavrparts1 from Debian).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "avr_ioport.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "uart_pty.h"

static uart_pty_t uart;

static void pin_changed(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  const char *name = param;
  printf("pin %s %u\n", name, value ? 1u : 0u);
  fflush(stdout);
}

static char names[3][8][4];

static int handle_command(avr_t *avr, char *cmd) {
  char port;
  int bit, value;
  if (strncmp(cmd, "quit", 4) == 0) return 0;
  if (sscanf(cmd, "pin %c%d %d", &port, &bit, &value) == 3 && bit >= 0 && bit < 8 &&
      (port == 'B' || port == 'C' || port == 'D')) {
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit), value ? 1 : 0);
  } else {
    fprintf(stderr, "oss_simavr: unknown command: %s", cmd);
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FIRMWARE.elf\n", argv[0]);
    return 2;
  }
  elf_firmware_t fw;
  memset(&fw, 0, sizeof fw);
  if (elf_read_firmware(argv[1], &fw) != 0) {
    fprintf(stderr, "oss_simavr: cannot read %s\n", argv[1]);
    return 1;
  }
  avr_t *avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) return 1;
  avr_init(avr);
  avr->frequency = 16000000;
  avr_load_firmware(avr, &fw);

  const char ports[3] = {'B', 'C', 'D'};
  for (int p = 0; p < 3; p++)
    for (int b = 0; b < 8; b++) {
      snprintf(names[p][b], sizeof names[p][b], "%c%d", ports[p], b);
      avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(ports[p]), b), pin_changed,
                              names[p][b]);
    }
  /* inputs idle high, as the pull-ups hold them */
  for (int b = 2; b < 8; b++) avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), b), 1);

  uart_pty_init(avr, &uart);
  uart_pty_connect(&uart, '0');
  printf("port %s\n", uart.pty.slavename);
  fflush(stdout);

  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  char cmd[64];
  size_t len = 0;
  for (unsigned long n = 0;; n++) {
    int state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) {
      fprintf(stderr, "oss_simavr: firmware stopped (state %d)\n", state);
      return 1;
    }
    if ((n & 1023) == 0) {
      char c;
      ssize_t r;
      while ((r = read(0, &c, 1)) == 1) {
        if (len < sizeof cmd - 1) cmd[len++] = c;
        if (c == '\n') {
          cmd[len] = 0;
          len = 0;
          if (!handle_command(avr, cmd)) {
            uart_pty_stop(&uart);
            return 0;
          }
        }
      }
      if (r == 0) { /* stdin closed: the test is over */
        uart_pty_stop(&uart);
        return 0;
      }
    }
  }
}
