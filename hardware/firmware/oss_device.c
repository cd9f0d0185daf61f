/*
 * OSS device firmware for an ATmega328P at 16 MHz (Arduino Nano / Uno / Pro Mini 5 V), plain avr-libc.
 *
 * One source, four kinds chosen at build time (make KIND=pedal|buttonbox|stacklight|picklight):
 *   pedal       inputs D2, D3            (0: next, 1: back on a double pedal)
 *   buttonbox   inputs D2, D3, D4, D5    (0: next, 1: back, 2: help, 3: pause)
 *   stacklight  outputs D5, D6, D7       (0: green, 1: yellow, 2: red) through a MOSFET/relay board
 *   picklight   outputs D2..D12, A0      (lamp 0..11)
 * Inputs are switches to GND with the internal pull-ups, debounced for DEBOUNCE_MS in a 1 ms timer
 * interrupt. D13 (the on-board LED) is on while a host is talking to the device, blinks when not.
 *
 * The line protocol (docs/hardware.md, oss/hardware/protocol.py) at 115200 8N1:
 *   host ?            -> OSS <kind> <fw> <serial> boot=<n> in=<n> out=<n> acked=<seq> proto=1
 *   host H            -> (heartbeat; the device sends H <dropped> when it sent nothing for 500 ms)
 *   host A <seq>      -> events up to seq are delivered; they leave the outbox
 *   host O <cmd> <ds> -> A <cmd> once the outputs are set, or N <cmd> <reason>
 *   device E <seq> <input> <D|U> <age_ms>, sent again every 300 ms until acknowledged
 * Every line but a bare "?" ends in *CC, a CRC-8 (poly 0x07, init 0) of the body in hex.
 * A host silent for 2 s puts the outputs in a safe state (stack light: yellow blinking; lamps off).
 */

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdint.h>
#include <string.h>

#ifndef F_CPU
#define F_CPU 16000000UL
#endif
#define BAUD 115200UL
#define MAX_LINE 96
#define DEBOUNCE_MS 20
#define HEARTBEAT_MS 500
#define RESEND_MS 300
#define HOST_TIMEOUT_MS 2000
#define BLINK_HALF_MS 250
#define OUTBOX 16

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif
#ifndef SERIAL_NUMBER
#define SERIAL_NUMBER "OSS0001"
#endif

typedef struct { volatile uint8_t *pin; uint8_t bit; } pin_t; /* DDRx = PINx + 1, PORTx = PINx + 2 */
#define D(n) {&PIND, (n)}
#define B(n) {&PINB, (n)}
#define C(n) {&PINC, (n)}

#if defined(KIND_PEDAL)
#define KIND "pedal"
static const pin_t inputs[] = {D(2), D(3)};
static const pin_t outputs[1] = {D(0)};
#define N_OUT 0
#elif defined(KIND_BUTTONBOX)
#define KIND "buttonbox"
static const pin_t inputs[] = {D(2), D(3), D(4), D(5)};
static const pin_t outputs[1] = {D(0)};
#define N_OUT 0
#elif defined(KIND_STACKLIGHT)
#define KIND "stacklight"
static const pin_t inputs[1] = {D(0)};
#define N_IN 0
static const pin_t outputs[] = {D(5), D(6), D(7)};
#elif defined(KIND_PICKLIGHT)
#define KIND "picklight"
static const pin_t inputs[1] = {D(0)};
#define N_IN 0
static const pin_t outputs[] = {D(2), D(3), D(4), D(5), D(6), D(7), B(0), B(1), B(2), B(3), B(4), C(0)};
#else
#error "build with -DKIND_PEDAL, -DKIND_BUTTONBOX, -DKIND_STACKLIGHT or -DKIND_PICKLIGHT (make KIND=...)"
#endif
#ifndef N_IN
#define N_IN (sizeof inputs / sizeof inputs[0])
#endif
#ifndef N_OUT
#define N_OUT (sizeof outputs / sizeof outputs[0])
#endif

/* ---- clock and debouncing (timer 0 interrupt, every 1 ms) ------------------------------------ */

static volatile uint32_t ms;
static uint8_t stable[N_IN ? N_IN : 1], count[N_IN ? N_IN : 1];
typedef struct { uint8_t input, down; uint32_t t; } edge_t;
static volatile edge_t edges[8];
static volatile uint8_t edge_head, edge_tail;

ISR(TIMER0_COMPA_vect) {
  ms++;
  for (uint8_t i = 0; i < N_IN; i++) {
    uint8_t raw = (*inputs[i].pin & (1 << inputs[i].bit)) ? 0 : 1; /* pressed pulls to GND */
    if (raw == stable[i]) { count[i] = 0; continue; }
    if (++count[i] < DEBOUNCE_MS) continue;
    stable[i] = raw;
    count[i] = 0;
    uint8_t next = (edge_head + 1) & 7;
    if (next != edge_tail) {
      edges[edge_head].input = i;
      edges[edge_head].down = raw;
      edges[edge_head].t = ms;
      edge_head = next;
    }
  }
}

static uint32_t millis(void) {
  uint32_t t;
  cli();
  t = ms;
  sei();
  return t;
}

/* ---- UART: interrupt-driven receive, polled transmit with a running CRC ----------------------- */

static volatile uint8_t rx_buf[64];
static volatile uint8_t rx_head, rx_tail;
static uint8_t tx_crc;
static uint32_t last_tx;

ISR(USART_RX_vect) {
  uint8_t c = UDR0;
  uint8_t next = (rx_head + 1) & 63;
  if (next != rx_tail) { rx_buf[rx_head] = c; rx_head = next; }
}

static void uart_init(void) {
  UCSR0A = 1 << U2X0;
  UBRR0 = (uint16_t)((F_CPU / 8 / BAUD) - 1);
  UCSR0B = (1 << RXEN0) | (1 << TXEN0) | (1 << RXCIE0);
  UCSR0C = (1 << UCSZ01) | (1 << UCSZ00);
}

static void uart_put(uint8_t c) {
  while (!(UCSR0A & (1 << UDRE0))) {}
  UDR0 = c;
}

static uint8_t crc8_step(uint8_t crc, uint8_t b) {
  crc ^= b;
  for (uint8_t i = 0; i < 8; i++) crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
  return crc;
}

static void tx_char(char c) { tx_crc = crc8_step(tx_crc, (uint8_t)c); uart_put((uint8_t)c); }
static void tx_str(const char *s) { while (*s) tx_char(*s++); }
static void tx_uint(uint32_t v) {
  char d[11];
  uint8_t n = 0;
  do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) tx_char(d[--n]);
}
static void tx_begin(void) { tx_crc = 0; }
static void tx_end(void) {
  static const char hex[] = "0123456789ABCDEF";
  uart_put('*');
  uart_put((uint8_t)hex[tx_crc >> 4]);
  uart_put((uint8_t)hex[tx_crc & 15]);
  uart_put('\n');
  last_tx = millis();
}

/* ---- device state ------------------------------------------------------------------------------ */

static uint16_t boot;
static uint16_t seq;
static uint16_t dropped;
static edge_t outbox[OUTBOX];
static uint16_t outbox_seq[OUTBOX];
static uint8_t outbox_len;
static uint8_t out_state[N_OUT ? N_OUT : 1]; /* '0' off, '1' on, '2' blink */
static uint8_t host_alive;
static uint32_t last_rx, last_resend;

static void send_identity(void) {
  tx_begin();
  tx_str("OSS " KIND " " FW_VERSION " " SERIAL_NUMBER " boot=");
  tx_uint(boot);
  tx_str(" in=");
  tx_uint(N_IN);
  tx_str(" out=");
  tx_uint(N_OUT);
  tx_str(" acked="); /* the last event no longer kept: a new host expects acked + 1 next */
  tx_uint(outbox_len ? (uint16_t)(outbox_seq[0] - 1) : seq);
  tx_str(" proto=1");
  tx_end();
}

static void send_event(uint8_t k, uint32_t now) {
  tx_begin();
  tx_str("E ");
  tx_uint(outbox_seq[k]);
  tx_char(' ');
  tx_uint(outbox[k].input);
  tx_str(outbox[k].down ? " D " : " U ");
  tx_uint(now - outbox[k].t);
  tx_end();
}

static void send_reply(char what, int32_t cmd, const char *reason) {
  tx_begin();
  tx_char(what);
  tx_char(' ');
  if (cmd < 0) tx_char('-'); else tx_uint((uint32_t)cmd);
  if (reason) { tx_char(' '); tx_str(reason); }
  tx_end();
}

static void safe_outputs(void) {
  for (uint8_t i = 0; i < N_OUT; i++) out_state[i] = '0';
#if defined(KIND_STACKLIGHT)
  out_state[1] = '2'; /* nobody drives the light: yellow blinking calls someone */
#endif
}

static void apply_outputs(uint32_t now) {
  uint8_t blink_on = ((now / BLINK_HALF_MS) & 1) == 0;
  for (uint8_t i = 0; i < N_OUT; i++) {
    uint8_t on = out_state[i] == '1' || (out_state[i] == '2' && blink_on);
    volatile uint8_t *port = outputs[i].pin + 2;
    if (on) *port |= (uint8_t)(1 << outputs[i].bit); else *port &= (uint8_t)~(1 << outputs[i].bit);
  }
  if (host_alive) PORTB |= 1 << 5;
  else if ((now / 500) & 1) PORTB |= 1 << 5;
  else PORTB &= (uint8_t)~(1 << 5);
}

/* A decimal number of 1..5 digits below 65536; advances *p. */
static int32_t parse_u16(const char **p) {
  uint32_t v = 0;
  uint8_t n = 0;
  while (**p >= '0' && **p <= '9') {
    if (++n > 5) return -1;
    v = v * 10 + (uint32_t)(**p - '0');
    (*p)++;
  }
  return (n && v < 65536UL) ? (int32_t)v : -1;
}

static int8_t hexval(char c) {
  if (c >= '0' && c <= '9') return (int8_t)(c - '0');
  if (c >= 'A' && c <= 'F') return (int8_t)(c - 'A' + 10);
  if (c >= 'a' && c <= 'f') return (int8_t)(c - 'a' + 10);
  return -1;
}

static void handle_line(char *line, uint8_t len, uint32_t now) {
  if (len == 1 && line[0] == '?') { last_rx = now; host_alive = 1; send_identity(); return; }
  if (len < 4 || line[len - 3] != '*') { send_reply('N', -1, "syntax"); return; }
  int8_t hi = hexval(line[len - 2]), lo = hexval(line[len - 1]);
  uint8_t crc = 0;
  for (uint8_t i = 0; i < len - 3; i++) crc = crc8_step(crc, (uint8_t)line[i]);
  if (hi < 0 || lo < 0 || crc != (uint8_t)((hi << 4) | lo)) { send_reply('N', -1, "crc"); return; }
  line[len - 3] = 0;
  const char *p = line + 1;
  char head = line[0];
  if (head == '?' && *p == 0) {
    send_identity();
  } else if (head == 'H' && *p == 0) {
    /* heartbeat: nothing to do but note the host is alive */
  } else if (head == 'A' && *p == ' ') {
    p++;
    int32_t upto = parse_u16(&p);
    if (upto < 0 || *p) { send_reply('N', -1, "syntax"); return; }
    uint8_t keep = 0;
    for (uint8_t k = 0; k < outbox_len; k++) {
      int16_t ahead = (int16_t)(uint16_t)(outbox_seq[k] - (uint16_t)upto);
      if (ahead > 0) { outbox[keep] = outbox[k]; outbox_seq[keep] = outbox_seq[k]; keep++; }
    }
    outbox_len = keep;
  } else if (head == 'O' && *p == ' ') {
    p++;
    int32_t cmd = parse_u16(&p);
    if (cmd < 0 || *p != ' ') { send_reply('N', -1, "syntax"); return; }
    p++;
    uint8_t n = (uint8_t)strlen(p);
    for (uint8_t i = 0; i < n; i++)
      if (p[i] < '0' || p[i] > '2') { send_reply('N', cmd, "syntax"); return; }
    if (N_OUT == 0) { send_reply('N', cmd, "unsupported"); return; }
    if (n != N_OUT) { send_reply('N', cmd, "range"); return; }
    for (uint8_t i = 0; i < N_OUT; i++) out_state[i] = (uint8_t)p[i];
    apply_outputs(now);
    send_reply('A', cmd, 0);
  } else {
    send_reply('N', -1, "syntax");
    return;
  }
  last_rx = now;
  host_alive = 1;
}

static void take_edges(uint32_t now) {
  while (edge_tail != edge_head) {
    edge_t e = {edges[edge_tail].input, edges[edge_tail].down, edges[edge_tail].t};
    edge_tail = (edge_tail + 1) & 7;
    if (outbox_len == OUTBOX) { /* drop the oldest, count it */
      memmove(&outbox[0], &outbox[1], sizeof(edge_t) * (OUTBOX - 1));
      memmove(&outbox_seq[0], &outbox_seq[1], sizeof(uint16_t) * (OUTBOX - 1));
      outbox_len--;
      dropped++;
    }
    seq = (uint16_t)(seq + 1);
    outbox[outbox_len] = e;
    outbox_seq[outbox_len] = seq;
    send_event(outbox_len, now);
    outbox_len++;
    last_resend = now; /* the next copy of anything unacknowledged goes out RESEND_MS from now */
  }
}

int main(void) {
  MCUSR = 0;
  wdt_disable();
  boot = eeprom_read_word((uint16_t *)0);
  boot = (boot == 0xFFFF) ? 1 : (uint16_t)(boot + 1);
  eeprom_update_word((uint16_t *)0, boot);

  for (uint8_t i = 0; i < N_IN; i++) {
    *(inputs[i].pin + 1) &= (uint8_t)~(1 << inputs[i].bit); /* input */
    *(inputs[i].pin + 2) |= (uint8_t)(1 << inputs[i].bit);  /* pull-up */
  }
  for (uint8_t i = 0; i < N_OUT; i++) *(outputs[i].pin + 1) |= (uint8_t)(1 << outputs[i].bit);
  DDRB |= 1 << 5;
  safe_outputs();

  TCCR0A = 1 << WGM01; /* CTC, 16 MHz / 64 / 250 = 1 kHz */
  TCCR0B = (1 << CS01) | (1 << CS00);
  OCR0A = 249;
  TIMSK0 = 1 << OCIE0A;
  uart_init();
  sei();
  wdt_enable(WDTO_1S);
  send_identity();

  static char line[MAX_LINE + 1];
  uint8_t len = 0, overlong = 0, bad = 0;
  for (;;) {
    wdt_reset();
    uint32_t now = millis();
    while (rx_tail != rx_head) {
      char c = (char)rx_buf[rx_tail];
      rx_tail = (rx_tail + 1) & 63;
      if (c == '\n') {
        if (overlong) send_reply('N', -1, "long");
        else if (bad) send_reply('N', -1, "syntax");
        else if (len) handle_line(line, len, now);
        len = overlong = bad = 0;
      } else if (c == '\r') {
      } else if (len >= MAX_LINE) {
        overlong = 1;
      } else {
        if (c < 0x20 || c > 0x7E) bad = 1;
        line[len++] = c;
      }
    }
    take_edges(now);
    if (outbox_len && now - last_resend >= RESEND_MS) {
      last_resend = now;
      for (uint8_t k = 0; k < outbox_len; k++) send_event(k, now);
    }
    if (host_alive && now - last_rx > HOST_TIMEOUT_MS) { host_alive = 0; safe_outputs(); }
    if (now - last_tx >= HEARTBEAT_MS) {
      tx_begin();
      tx_str("H ");
      tx_uint(dropped);
      tx_end();
    }
    apply_outputs(now);
    cli();
    if (rx_tail == rx_head && edge_tail == edge_head) {
      sleep_enable();
      sei();
      sleep_cpu(); /* the 1 ms timer or a received byte wakes us */
      sleep_disable();
    } else {
      sei();
    }
  }
}
