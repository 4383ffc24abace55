/**
 * Telephone numbering data, kept as plain tables so that a change in numbering (a new area code, a country
 * dropping its trunk prefix) is a one-line data edit. Used by phoneNumber.ts; no logic lives here.
 *
 * Sources: ITU-T E.164 assigned country codes (https://www.itu.int/pub/T-SP-E.164D), the NANPA area-code
 * list (https://nationalnanpa.com/) and the Canadian Numbering Administrator (https://www.cnac.ca/).
 */

/**
 * ITU calling code (digits after `+`) → ISO 3166 alpha-2. Looked up longest prefix first. The few entries
 * longer than 3 digits split a shared code between territories (Jersey inside +44, Kazakhstan inside +7).
 * Codes that belong to no country (+800 freephone, +870 Inmarsat, +881/+882/+883 satellite and international
 * networks, +888, +979, +991) are absent on purpose, so they map to '??'. Where a code is shared and we do not
 * split it (+590 GP/BL/MF, +262 RE/YT, +672 NF/AQ) the largest territory wins. XK (Kosovo) is the
 * user-assigned code everyone uses. Ascension (+247) is part of SH.
 */
export const CALLING_CODE_COUNTRIES: ReadonlyMap<string, string> = new Map(
  // Zone 2: Africa and a few Atlantic islands.
  (
    '20 EG, 211 SS, 212 MA, 213 DZ, 216 TN, 218 LY, 220 GM, 221 SN, 222 MR, 223 ML, 224 GN, 225 CI, ' +
    '226 BF, 227 NE, 228 TG, 229 BJ, 230 MU, 231 LR, 232 SL, 233 GH, 234 NG, 235 TD, 236 CF, 237 CM, ' +
    '238 CV, 239 ST, 240 GQ, 241 GA, 242 CG, 243 CD, 244 AO, 245 GW, 246 IO, 247 SH, 248 SC, 249 SD, ' +
    '250 RW, 251 ET, 252 SO, 253 DJ, 254 KE, 255 TZ, 256 UG, 257 BI, 258 MZ, 260 ZM, 261 MG, 262 RE, ' +
    '262269 YT, 262639 YT, 263 ZW, 264 NA, 265 MW, 266 LS, 267 BW, 268 SZ, 269 KM, 27 ZA, 290 SH, ' +
    '291 ER, 297 AW, 298 FO, 299 GL, ' +
    // Zones 3 and 4: Europe.
    '30 GR, 31 NL, 32 BE, 33 FR, 34 ES, 350 GI, 351 PT, 352 LU, 353 IE, 354 IS, 355 AL, 356 MT, 357 CY, ' +
    '358 FI, 35818 AX, 359 BG, 36 HU, 370 LT, 371 LV, 372 EE, 373 MD, 374 AM, 375 BY, 376 AD, 377 MC, ' +
    '378 SM, 379 VA, 380 UA, 381 RS, 382 ME, 383 XK, 385 HR, 386 SI, 387 BA, 389 MK, 39 IT, 3906698 VA, ' +
    '40 RO, 41 CH, 420 CZ, 421 SK, 423 LI, 43 AT, 44 GB, 441481 GG, 441534 JE, 441624 IM, 45 DK, 46 SE, ' +
    '47 NO, 4779 SJ, 48 PL, 49 DE, ' +
    // Zone 5: Central and South America (the Caribbean is mostly in +1, see NANP_AREA_CODE_COUNTRIES).
    '500 FK, 501 BZ, 502 GT, 503 SV, 504 HN, 505 NI, 506 CR, 507 PA, 508 PM, 509 HT, 51 PE, 52 MX, ' +
    '53 CU, 54 AR, 55 BR, 56 CL, 57 CO, 58 VE, 590 GP, 591 BO, 592 GY, 593 EC, 594 GF, 595 PY, 596 MQ, ' +
    '597 SR, 598 UY, 599 CW, 5993 BQ, 5994 BQ, 5997 BQ, ' +
    // Zone 6: South-East Asia and Oceania.
    '60 MY, 61 AU, 62 ID, 63 PH, 64 NZ, 65 SG, 66 TH, 670 TL, 672 NF, 673 BN, 674 NR, 675 PG, 676 TO, ' +
    '677 SB, 678 VU, 679 FJ, 680 PW, 681 WF, 682 CK, 683 NU, 685 WS, 686 KI, 687 NC, 688 TV, 689 PF, ' +
    '690 TK, 691 FM, 692 MH, ' +
    // Zone 7: Russia, with Kazakhstan's ranges inside it.
    '7 RU, 76 KZ, 77 KZ, ' +
    // Zone 8: East Asia.
    '81 JP, 82 KR, 84 VN, 850 KP, 852 HK, 853 MO, 855 KH, 856 LA, 86 CN, 880 BD, 886 TW, ' +
    // Zone 9: West, Central and South Asia.
    '90 TR, 91 IN, 92 PK, 93 AF, 94 LK, 95 MM, 960 MV, 961 LB, 962 JO, 963 SY, 964 IQ, 965 KW, 966 SA, ' +
    '967 YE, 968 OM, 970 PS, 971 AE, 972 IL, 973 BH, 974 QA, 975 BT, 976 MN, 977 NP, 98 IR, 992 TJ, ' +
    '993 TM, 994 AZ, 995 GE, 996 KG, 998 UZ'
  )
    .split(', ')
    .map((entry) => entry.split(' ') as [string, string]),
);

/** Canadian geographic and non-geographic (600) area codes, per CNAC. */
const CANADIAN_AREA_CODES =
  '204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438 450 460 ' +
  '468 474 506 514 519 548 579 581 584 587 600 604 613 639 647 672 683 705 709 742 753 778 780 782 807 ' +
  '819 825 867 873 879 902 905 942';

/**
 * NANP (+1) area code → country, for every area code that is not the US. Everything else in +1 is US,
 * including toll-free (8xx) and premium (900) ranges, which blocked_prefixes handles.
 *
 * The US territories (PR, VI, GU, MP, AS) get their own ISO code rather than US, because dialling them is
 * priced and regulated differently; an operator who faxes there adds them to allowed_countries.
 */
export const NANP_AREA_CODE_COUNTRIES: ReadonlyMap<string, string> = new Map([
  ...CANADIAN_AREA_CODES.split(' ').map((area): [string, string] => [area, 'CA']),
  ...(
    '242 BS, 246 BB, 264 AI, 268 AG, 284 VG, 340 VI, 345 KY, 441 BM, 473 GD, 649 TC, 658 JM, 664 MS, ' +
    '670 MP, 671 GU, 684 AS, 721 SX, 758 LC, 767 DM, 784 VC, 787 PR, 809 DO, 829 DO, 849 DO, 868 TT, ' +
    '869 KN, 876 JM, 939 PR'
  )
    .split(', ')
    .map((entry) => entry.split(' ') as [string, string]),
]);

/** How a country's own residents write a number without its country code. */
export interface NationalDialling {
  /** ITU calling code, digits only. */
  callingCode: string;
  /**
   * Dropped from the front of a national number before adding the calling code ('0' in most of Europe,
   * '8' in Russia, '06' in Hungary). Empty for countries where the national number is dialled whole
   * internationally (Italy keeps its leading 0: 06 1234 → +39 06 1234; Spain, Poland, Mexico have none).
   */
  trunkPrefix: string;
}

/**
 * Non-NANP countries whose national form we understand. A default_country missing from here still works for
 * numbers written with `+` or `00`; only its national form is refused (with a hint to add the country code).
 * Brazil and Argentina are left out on purpose: their national forms carry carrier-selection and mobile
 * infixes that a trunk prefix cannot describe.
 */
export const NATIONAL_DIALLING: ReadonlyMap<string, NationalDialling> = new Map(
  (
    'AE 971 0, AT 43 0, AU 61 0, BE 32 0, BG 359 0, CH 41 0, CL 56 -, CN 86 0, CO 57 -, CY 357 -, ' +
    'CZ 420 -, DE 49 0, DK 45 -, EE 372 -, EG 20 0, ES 34 -, FI 358 0, FR 33 0, GB 44 0, GR 30 -, ' +
    'HK 852 -, HR 385 0, HU 36 06, ID 62 0, IE 353 0, IL 972 0, IN 91 0, IS 354 -, IT 39 -, JP 81 0, ' +
    'KE 254 0, KR 82 0, LU 352 -, LV 371 -, MA 212 0, MT 356 -, MX 52 -, MY 60 0, NG 234 0, NL 31 0, ' +
    'NO 47 -, NZ 64 0, PE 51 0, PH 63 0, PK 92 0, PL 48 -, PT 351 -, RO 40 0, RU 7 8, SA 966 0, SE 46 0, ' +
    'SG 65 -, SI 386 0, SK 421 0, TH 66 0, TR 90 0, TW 886 0, UA 380 0, VN 84 0, ZA 27 0'
  )
    .split(', ')
    .map((entry): [string, NationalDialling] => {
      const [country = '', callingCode = '', trunk = '-'] = entry.split(' ');
      return [country, { callingCode, trunkPrefix: trunk === '-' ? '' : trunk }];
    }),
);
