import { describe, expect, it } from 'vitest';

import { originalEnvelopeSender } from '../../src/domain/envelopeSender.js';

describe('originalEnvelopeSender', () => {
  it.each([
    // BATV, as Exim, Postfix milters, Proofpoint and others write it
    ['prvs=1a2b3c4d=alice@example.com', 'alice@example.com'],
    ['prvs=0123456789=alice@example.com', 'alice@example.com'],
    ['PRVS=0123ABCDEF=Alice@Example.com', 'Alice@Example.com'],
    // the early tag-last form
    ['prvs=alice=0123456789@example.com', 'alice@example.com'],
    // Barracuda
    ['btv1==8d5e3f4a1b2==alice@example.com', 'alice@example.com'],
    // Microsoft
    ['msprvs1=18003q5pL0DMs=alice@example.com', 'alice@example.com'],
    // SRS after one forwarder, with each separator libsrs2 accepts
    ['SRS0=HHH=TT=example.com=alice@forwarder.example', 'alice@example.com'],
    ['SRS0+HHH=TT=example.com=alice@forwarder.example', 'alice@example.com'],
    ['srs0-a1b2=4f=example.com=alice@forwarder.example', 'alice@example.com'],
    // a local part holding '='
    ['SRS0=HHH=TT=example.com=a=b@forwarder.example', 'a=b@example.com'],
    // SRS after two forwarders
    ['SRS1=XXX=first.example==HHH=TT=example.com=alice@second.example', 'alice@example.com'],
    // BATV inside SRS (the original server tagged it, then it was forwarded)
    ['SRS0=HHH=TT=example.com=prvs=0123456789=alice@forwarder.example', 'alice@example.com'],
    // not rewritten: left alone
    ['alice@example.com', 'alice@example.com'],
    ['prvs@example.com', 'prvs@example.com'],
    ['first=last@example.com', 'first=last@example.com'],
    ['prvs=notatag=@example.com', 'prvs=notatag=@example.com'],
    ['SRS0=broken@forwarder.example', 'SRS0=broken@forwarder.example'],
    ['SRS0=HHH=TT=nodot=alice@forwarder.example', 'SRS0=HHH=TT=nodot=alice@forwarder.example'],
    ['', ''],
  ])('%s stands for %s', (address, sender) => {
    expect(originalEnvelopeSender(address)).toBe(sender);
  });
});
