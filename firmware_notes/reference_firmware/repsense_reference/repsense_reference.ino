// repsense reference sensor firmware — protocol version 1
//
// Implements firmware_notes/reference_protocol.md on a Seeed Studio XIAO nRF52840
// Sense (on-board LSM6DS3TR-C IMU) with the Adafruit Bluefruit stack that ships in
// the "Seeed nRF52 Boards" Arduino core (the non-mbed one).
//
// Libraries: "Seeed Arduino LSM6DS3" (LSM6DS3.h).  Board: "Seeed XIAO nRF52840 Sense".
//
// What it does
//   * samples the IMU continuously at the configured ODR, counting every sample
//     (the 16-bit counter of the protocol), into a 0.6 s ring buffer;
//   * while a host is connected and has sent START, sends one data frame per
//     connection interval (15 ms) holding every buffered sample (up to the MTU);
//   * if the ring overflows it drops the OLDEST samples — the counter shows the gap;
//   * serves the control characteristic (rate / range / start / stop / batch) and
//     its 7-byte status, Battery (0x180F) and Device Information (0x180A).
//
// This sketch is the reference for the byte layout; it polls the IMU's data-ready
// bit, which keeps up to 416 Hz on the nRF52840.  For lower power use the
// LSM6DS3 FIFO and read it once per connection interval.

#include <Wire.h>
#include <bluefruit.h>
#include <LSM6DS3.h>

// ---- UUIDs (Bluefruit wants 128-bit UUIDs least-significant byte first) ------
// 52530001-7265-7073-656e-73652d696d75 and its 0002 / 0003 siblings.
#define RS_UUID(attr) { 0x75, 0x6d, 0x69, 0x2d, 0x65, 0x73, 0x6e, 0x65, \
                        0x73, 0x70, 0x65, 0x72, (attr), 0x00, 0x53, 0x52 }
const uint8_t UUID_SERVICE[16] = RS_UUID(0x01);
const uint8_t UUID_DATA[16]    = RS_UUID(0x02);
const uint8_t UUID_CONTROL[16] = RS_UUID(0x03);

// ---- protocol constants ---------------------------------------------------------
const uint8_t FRAME_VERSION = 0x01;
const uint8_t FLAG_GYRO = 0x01, FLAG_RESTART = 0x02;
const uint8_t OP_SET_RATE = 0x01, OP_SET_RANGE = 0x02, OP_START = 0x03, OP_STOP = 0x04,
              OP_SET_BATCH = 0x05;
const uint8_t ERR_OK = 0, ERR_BAD_OPCODE = 1, ERR_BAD_PARAM = 2;
const uint8_t HEADER_SIZE = 8;

// Rate codes 0..5 -> LSM6DS3 ODR field (12.5, 26, 52, 104, 208, 416 Hz).
const uint8_t ODR_BITS[6] = { 0x1, 0x2, 0x3, 0x4, 0x5, 0x6 };

// ---- LSM6DS3 registers ----------------------------------------------------------
const uint8_t REG_CTRL1_XL = 0x10, REG_CTRL2_G = 0x11, REG_CTRL3_C = 0x12;
const uint8_t REG_STATUS = 0x1E, REG_OUTX_L_G = 0x22;  // gyro x,y,z then acc x,y,z

LSM6DS3 imu(I2C_MODE, 0x6A);
BLEService svc(UUID_SERVICE);
BLECharacteristic dataChr(UUID_DATA);
BLECharacteristic ctrlChr(UUID_CONTROL);
BLEDis dis;
BLEBas bas;

// ---- configuration and state ------------------------------------------------------
volatile uint8_t rateCode = 3;     // 104 Hz
volatile uint8_t accRangeG = 8;    // +-8 g
volatile uint8_t gyroCode = 3;     // +-1000 dps
volatile uint8_t batchLimit = 0;   // 0 = as many as the MTU allows
volatile bool streaming = false;
volatile bool gyroOn = true;
volatile uint8_t lastError = ERR_OK;
volatile bool reconfigure = true;  // apply ranges/rate in loop(), not in the BLE callback
uint16_t connHandle = BLE_CONN_HANDLE_INVALID;
uint16_t mtu = 23;

float accFactor = 1.0f, gyrFactor = 1.0f;  // chip counts -> protocol counts

// Ring buffer of samples (ax ay az gx gy gz in protocol counts).
const uint16_t RING = 256;  // 0.6 s at 416 Hz
int16_t ring[RING][6];
uint16_t ringHead = 0, ringCount = 0;
uint16_t counter = 0;       // index of the NEXT sample the IMU produces (mod 65536)
bool restartPending = true; // set RESTART in the next frame
uint32_t lastSendMs = 0;
const uint32_t SEND_PERIOD_MS = 15;

// ---- helpers ----------------------------------------------------------------------
static int16_t sat16(float v) {
  if (v > 32767.0f) return 32767;
  if (v < -32768.0f) return -32768;
  return (int16_t)lroundf(v);
}

static void writeStatus() {
  uint8_t st[7] = { (uint8_t)(streaming ? 1 : 0), rateCode, accRangeG, gyroCode, batchLimit,
                    (uint8_t)(gyroOn ? FLAG_GYRO : 0), lastError };
  ctrlChr.write(st, sizeof st);
}

// Program ODR and full scales, and the factors that turn chip counts into protocol
// counts (protocol LSB = range / 32768; chip sensitivities from the LSM6DS3 datasheet).
static void applyImuConfig() {
  uint8_t fsXl, fsG, fs125 = 0;
  float accMgPerLsb, gyrMdpsPerLsb;
  switch (accRangeG) {
    case 2:  fsXl = 0x0; accMgPerLsb = 0.061f; break;
    case 4:  fsXl = 0x2; accMgPerLsb = 0.122f; break;
    case 16: fsXl = 0x1; accMgPerLsb = 0.488f; break;
    default: fsXl = 0x3; accMgPerLsb = 0.244f; break;  // 8 g
  }
  switch (gyroCode) {
    case 0:  fsG = 0x0; fs125 = 1; gyrMdpsPerLsb = 4.375f; break;  // 125 dps
    case 1:  fsG = 0x0; gyrMdpsPerLsb = 8.75f; break;              // 245 dps (protocol 250)
    case 2:  fsG = 0x1; gyrMdpsPerLsb = 17.5f; break;
    case 4:  fsG = 0x3; gyrMdpsPerLsb = 70.0f; break;
    default: fsG = 0x2; gyrMdpsPerLsb = 35.0f; break;              // 1000 dps
  }
  uint8_t odr = ODR_BITS[rateCode];
  imu.writeRegister(REG_CTRL3_C, 0x44);  // BDU + register auto-increment
  imu.writeRegister(REG_CTRL1_XL, (uint8_t)((odr << 4) | (fsXl << 2)));
  imu.writeRegister(REG_CTRL2_G, (uint8_t)((odr << 4) | (fsG << 2) | (fs125 << 1)));
  accFactor = accMgPerLsb / (accRangeG * 1000.0f / 32768.0f);
  gyrFactor = gyrMdpsPerLsb / ((125u << gyroCode) * 1000.0f / 32768.0f);
  // A new rate or range restarts the counter (protocol section 3.1).
  noInterrupts();
  ringHead = 0;
  ringCount = 0;
  interrupts();
  counter = 0;
  restartPending = true;
}

// ---- BLE callbacks ----------------------------------------------------------------
static void onControl(uint16_t, BLECharacteristic*, uint8_t* data, uint16_t len) {
  uint8_t err = ERR_OK;
  if (len == 0) {
    err = ERR_BAD_OPCODE;
  } else {
    switch (data[0]) {
      case OP_SET_RATE:
        if (len == 2 && data[1] <= 5) {
          if (data[1] != rateCode) { rateCode = data[1]; reconfigure = true; }
        } else err = ERR_BAD_PARAM;
        break;
      case OP_SET_RANGE:
        if (len == 3 && (data[1] == 2 || data[1] == 4 || data[1] == 8 || data[1] == 16) &&
            data[2] <= 4) {
          if (data[1] != accRangeG || data[2] != gyroCode) {
            accRangeG = data[1]; gyroCode = data[2]; reconfigure = true;
          }
        } else err = ERR_BAD_PARAM;
        break;
      case OP_START:
        if (len <= 2) { gyroOn = (len == 1) || (data[1] & 0x01); streaming = true; }
        else err = ERR_BAD_PARAM;
        break;
      case OP_STOP:
        if (len == 1) streaming = false; else err = ERR_BAD_PARAM;
        break;
      case OP_SET_BATCH:
        if (len == 2) batchLimit = data[1]; else err = ERR_BAD_PARAM;
        break;
      default:
        err = ERR_BAD_OPCODE;
    }
  }
  lastError = err;
  writeStatus();
}

static void onConnect(uint16_t conn) {
  connHandle = conn;
  BLEConnection* c = Bluefruit.Connection(conn);
  c->requestMtuExchange(247);
  c->requestDataLengthUpdate();
  c->requestConnectionParameter(12);  // 15 ms (1.25 ms units)
}

static void onDisconnect(uint16_t, uint8_t) {
  connHandle = BLE_CONN_HANDLE_INVALID;
  streaming = false;  // the host sends START again; sampling and counting go on
  writeStatus();
}

// ---- sampling and sending -----------------------------------------------------------
static void sampleIfReady() {
  uint8_t status = 0;
  imu.readRegister(&status, REG_STATUS);
  if (!(status & 0x01)) return;  // XLDA: new accelerometer (and gyro, same ODR) sample
  uint8_t raw[12];
  imu.readRegisterRegion(raw, REG_OUTX_L_G, 12);
  int16_t g[3], a[3];
  for (int i = 0; i < 3; i++) {
    g[i] = (int16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
    a[i] = (int16_t)(raw[6 + 2 * i] | (raw[6 + 2 * i + 1] << 8));
  }
  uint16_t slot = (ringHead + ringCount) % RING;
  if (ringCount == RING) {  // full: drop the oldest; the counter reveals the loss
    ringHead = (ringHead + 1) % RING;
    ringCount--;
    slot = (ringHead + ringCount) % RING;
  }
  for (int i = 0; i < 3; i++) {
    ring[slot][i] = sat16(a[i] * accFactor);
    ring[slot][3 + i] = sat16(g[i] * gyrFactor);
  }
  ringCount++;
  counter++;
  if (!streaming || connHandle == BLE_CONN_HANDLE_INVALID) {
    // Not sending: keep only counting.
    ringHead = (ringHead + ringCount) % RING;
    ringCount = 0;
  }
}

static void sendFrame() {
  if (ringCount == 0 || !dataChr.notifyEnabled(connHandle)) return;
  BLEConnection* c = Bluefruit.Connection(connHandle);
  if (c) mtu = c->getMtu();
  const uint8_t per = gyroOn ? 12 : 6;
  uint16_t maxN = (mtu - 3 - HEADER_SIZE) / per;
  if (maxN < 1) maxN = 1;
  if (maxN > 255) maxN = 255;
  if (batchLimit && batchLimit < maxN) maxN = batchLimit;
  uint16_t n = ringCount < maxN ? ringCount : maxN;
  static uint8_t buf[HEADER_SIZE + 255 * 12];
  uint16_t first = (uint16_t)(counter - ringCount);  // counter of the oldest buffered sample
  buf[0] = FRAME_VERSION;
  buf[1] = (gyroOn ? FLAG_GYRO : 0) | (restartPending ? FLAG_RESTART : 0);
  buf[2] = first & 0xFF;
  buf[3] = first >> 8;
  buf[4] = (uint8_t)n;
  buf[5] = rateCode;
  buf[6] = accRangeG;
  buf[7] = gyroCode;
  uint16_t off = HEADER_SIZE;
  for (uint16_t k = 0; k < n; k++) {
    const int16_t* s = ring[(ringHead + k) % RING];
    for (int i = 0; i < (gyroOn ? 6 : 3); i++) {
      buf[off++] = (uint8_t)(s[i] & 0xFF);
      buf[off++] = (uint8_t)((uint16_t)s[i] >> 8);
    }
  }
  if (dataChr.notify(connHandle, buf, off)) {  // queued: consume the samples
    ringHead = (ringHead + n) % RING;
    ringCount -= n;
    restartPending = false;
  }  // else: TX queue full, retry at the next connection interval
}

static void updateBattery() {
#if defined(PIN_VBAT) && defined(VBAT_ENABLE)
  digitalWrite(VBAT_ENABLE, LOW);
  float mv = analogRead(PIN_VBAT) * (3600.0f / 4095.0f) * (1510.0f / 510.0f);
  int pct = (int)((mv - 3300.0f) / (4200.0f - 3300.0f) * 100.0f);
  bas.write((uint8_t)constrain(pct, 0, 100));
#else
  bas.write(100);
#endif
}

// ---- Arduino entry points -------------------------------------------------------------
void setup() {
#ifdef PIN_LSM6DS3TR_C_POWER
  pinMode(PIN_LSM6DS3TR_C_POWER, OUTPUT);
  digitalWrite(PIN_LSM6DS3TR_C_POWER, HIGH);
  delay(10);
#endif
#if defined(PIN_VBAT) && defined(VBAT_ENABLE)
  pinMode(VBAT_ENABLE, OUTPUT);
  analogReadResolution(12);
#endif
  imu.begin();
  applyImuConfig();
  reconfigure = false;

  Bluefruit.configPrphBandwidth(BANDWIDTH_MAX);  // MTU 247, data length 251
  Bluefruit.begin();
  Bluefruit.setTxPower(4);
  Bluefruit.setName("repsense-IMU");
  Bluefruit.Periph.setConnInterval(12, 24);  // 15-30 ms
  Bluefruit.Periph.setConnectCallback(onConnect);
  Bluefruit.Periph.setDisconnectCallback(onDisconnect);

  dis.setManufacturer("repsense");
  dis.setModel("repsense reference IMU");
  dis.setFirmwareRev("1.0.0");
  dis.setHardwareRev("XIAO nRF52840 Sense");
  dis.begin();
  bas.begin();
  updateBattery();

  svc.begin();
  dataChr.setProperties(CHR_PROPS_NOTIFY);
  dataChr.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
  dataChr.setMaxLen(244);
  dataChr.begin();
  ctrlChr.setProperties(CHR_PROPS_READ | CHR_PROPS_WRITE);
  ctrlChr.setPermission(SECMODE_OPEN, SECMODE_OPEN);
  ctrlChr.setMaxLen(7);
  ctrlChr.setWriteCallback(onControl);
  ctrlChr.begin();
  writeStatus();

  Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
  Bluefruit.Advertising.addTxPower();
  Bluefruit.Advertising.addService(svc);
  Bluefruit.ScanResponse.addName();
  Bluefruit.Advertising.restartOnDisconnect(true);
  Bluefruit.Advertising.setInterval(160, 400);  // 100-250 ms
  Bluefruit.Advertising.start(0);
}

void loop() {
  if (reconfigure) {
    reconfigure = false;
    applyImuConfig();
  }
  sampleIfReady();
  uint32_t now = millis();
  if (streaming && connHandle != BLE_CONN_HANDLE_INVALID && now - lastSendMs >= SEND_PERIOD_MS) {
    lastSendMs = now;
    sendFrame();
  }
  static uint32_t lastBattery = 0;
  if (now - lastBattery > 30000) {
    lastBattery = now;
    updateBattery();
  }
}
