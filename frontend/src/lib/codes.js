// The gateways' bank and card-company codes with their names, one table per gateway and kind:
// PortOne V1 (iamport) uses the three-digit codes of the Korea Financial Telecommunications &
// Clearings Institute (금융결제원) for banks and its own three-digit card codes; Toss uses
// two-character codes for both. Each row: [code, Korean name, English name].
import { getLanguage } from './i18n.js'

export const PORTONE_BANKS = [
  ['002', 'KDB산업은행', 'KDB Bank'],
  ['003', 'IBK기업은행', 'IBK Industrial Bank'],
  ['004', 'KB국민은행', 'KB Kookmin Bank'],
  ['007', 'Sh수협은행', 'Sh Suhyup Bank'],
  ['011', 'NH농협은행', 'NH NongHyup Bank'],
  ['012', '지역농축협', 'Local Nonghyup'],
  ['020', '우리은행', 'Woori Bank'],
  ['023', 'SC제일은행', 'SC First Bank'],
  ['027', '한국씨티은행', 'Citibank Korea'],
  ['031', 'iM뱅크(대구)', 'iM Bank (Daegu)'],
  ['032', '부산은행', 'Busan Bank'],
  ['034', '광주은행', 'Gwangju Bank'],
  ['035', '제주은행', 'Jeju Bank'],
  ['037', '전북은행', 'Jeonbuk Bank'],
  ['039', '경남은행', 'Kyongnam Bank'],
  ['045', '새마을금고', 'Saemaul Geumgo'],
  ['048', '신협', 'Shinhyup'],
  ['050', '저축은행', 'Savings Bank'],
  ['054', 'HSBC은행', 'HSBC'],
  ['064', '산림조합', 'Sanlim Forestry Cooperative'],
  ['071', '우체국', 'Korea Post'],
  ['081', '하나은행', 'Hana Bank'],
  ['088', '신한은행', 'Shinhan Bank'],
  ['089', '케이뱅크', 'K Bank'],
  ['090', '카카오뱅크', 'KakaoBank'],
  ['092', '토스뱅크', 'Toss Bank'],
]

export const PORTONE_CARDS = [
  ['361', 'BC카드', 'BC Card'],
  ['364', '광주카드', 'Gwangju Card'],
  ['365', '삼성카드', 'Samsung Card'],
  ['366', '신한카드', 'Shinhan Card'],
  ['367', '현대카드', 'Hyundai Card'],
  ['368', '롯데카드', 'Lotte Card'],
  ['369', '수협카드', 'Suhyup Card'],
  ['370', '씨티카드', 'Citi Card'],
  ['371', 'NH농협카드', 'NH NongHyup Card'],
  ['372', '전북카드', 'Jeonbuk Card'],
  ['373', '제주카드', 'Jeju Card'],
  ['374', '하나카드', 'Hana Card'],
  ['381', 'KB국민카드', 'KB Kookmin Card'],
  ['041', '우리카드', 'Woori Card'],
  ['071', '우체국카드', 'Korea Post Card'],
]

export const TOSS_BANKS = [
  ['02', 'KDB산업은행', 'KDB Bank'],
  ['03', 'IBK기업은행', 'IBK Industrial Bank'],
  ['06', 'KB국민은행', 'KB Kookmin Bank'],
  ['07', 'Sh수협은행', 'Sh Suhyup Bank'],
  ['11', 'NH농협은행', 'NH NongHyup Bank'],
  ['12', '지역농축협', 'Local Nonghyup'],
  ['20', '우리은행', 'Woori Bank'],
  ['23', 'SC제일은행', 'SC First Bank'],
  ['27', '씨티은행', 'Citibank Korea'],
  ['31', 'iM뱅크(대구)', 'iM Bank (Daegu)'],
  ['32', '부산은행', 'Busan Bank'],
  ['34', '광주은행', 'Gwangju Bank'],
  ['35', '제주은행', 'Jeju Bank'],
  ['37', '전북은행', 'Jeonbuk Bank'],
  ['39', '경남은행', 'Kyongnam Bank'],
  ['45', '새마을금고', 'Saemaul Geumgo'],
  ['48', '신협', 'Shinhyup'],
  ['50', '저축은행중앙회', 'Savings Banks'],
  ['54', '홍콩상하이은행', 'HSBC'],
  ['64', '산림조합', 'Sanlim Forestry Cooperative'],
  ['71', '우체국예금보험', 'Korea Post'],
  ['81', '하나은행', 'Hana Bank'],
  ['88', '신한은행', 'Shinhan Bank'],
  ['89', '케이뱅크', 'K Bank'],
  ['90', '카카오뱅크', 'KakaoBank'],
  ['92', '토스뱅크', 'Toss Bank'],
]

export const TOSS_CARDS = [
  ['3K', '기업BC', 'IBK BC'],
  ['46', '광주은행', 'Gwangju Bank'],
  ['71', '롯데카드', 'Lotte Card'],
  ['30', 'KDB산업은행', 'KDB Bank'],
  ['31', 'BC카드', 'BC Card'],
  ['51', '삼성카드', 'Samsung Card'],
  ['38', '새마을금고', 'Saemaul Geumgo'],
  ['41', '신한카드', 'Shinhan Card'],
  ['62', '신협', 'Shinhyup'],
  ['36', '씨티카드', 'Citi Card'],
  ['33', '우리BC카드', 'Woori BC Card'],
  ['W1', '우리카드', 'Woori Card'],
  ['37', '우체국예금보험', 'Korea Post'],
  ['39', '저축은행중앙회', 'Savings Banks'],
  ['35', '전북은행', 'Jeonbuk Bank'],
  ['42', '제주은행', 'Jeju Bank'],
  ['15', '카카오뱅크', 'KakaoBank'],
  ['3A', '케이뱅크', 'K Bank'],
  ['24', '토스뱅크', 'Toss Bank'],
  ['21', '하나카드', 'Hana Card'],
  ['61', '현대카드', 'Hyundai Card'],
  ['11', 'KB국민카드', 'KB Kookmin Card'],
  ['91', 'NH농협카드', 'NH NongHyup Card'],
  ['34', 'Sh수협은행', 'Sh Suhyup Bank'],
  ['6D', '다이너스 클럽', 'Diners Club'],
  ['4M', '마스터카드', 'Mastercard'],
  ['3C', '유니온페이', 'UnionPay'],
  ['7A', '아메리칸 익스프레스', 'American Express'],
  ['4J', 'JCB', 'JCB'],
  ['4V', 'VISA', 'VISA'],
]

// PortOne V2 names banks by its own enum (KOOKMIN); refunds take the three-digit code (the
// backend sends it as that enum), so its table is V1's with the enum names as aliases.
const PORTONE_V2_BANKS = {
  KDB: '002',
  IBK: '003',
  KOOKMIN: '004',
  SUHYUP: '007',
  NONGHYUP: '011',
  LOCAL_NONGHYUP: '012',
  WOORI: '020',
  STANDARD_CHARTERED: '023',
  CITI: '027',
  DAEGU: '031',
  BUSAN: '032',
  KWANGJU: '034',
  JEJU: '035',
  JEONBUK: '037',
  KYONGNAM: '039',
  KFCC: '045',
  SHINHYUP: '048',
  POST: '071',
  HANA: '081',
  SHINHAN: '088',
}

const TABLES = {
  iamport: { bank: PORTONE_BANKS, card: PORTONE_CARDS },
  toss: { bank: TOSS_BANKS, card: TOSS_CARDS },
  portone: { bank: PORTONE_BANKS, card: [], aliases: { bank: PORTONE_V2_BANKS } },
}

function lookup(vendor, kind, value) {
  if (value === null || value === undefined || value === '') return ''
  const code = TABLES[vendor]?.aliases?.[kind]?.[value] ?? String(value)
  const row = TABLES[vendor]?.[kind].find(([c]) => c === code)
  if (!row) return String(value) // already a name (PortOne's vbank_name, card_name)
  return getLanguage() === 'en' ? row[2] : row[1]
}

/** A bank's name from a gateway's code ("20" at Toss -> "우리은행"); a name stays as it is. */
export const bankName = (vendor, value) => lookup(vendor, 'bank', value)

/** A card company's name from a gateway's code ("11" at Toss -> "KB국민카드"). */
export const cardCompanyName = (vendor, value) => lookup(vendor, 'card', value)

/** The banks a refund can go to at a gateway, as [code, name] in the current language. */
export function bankChoices(vendor) {
  const en = getLanguage() === 'en'
  return (TABLES[vendor]?.bank || []).map(([code, ko, english]) => [code, en ? english : ko])
}

// Easy-pay apps (간편결제) by our provider code: [ko, en].
const EASY_PAY = {
  tosspay: ['토스페이', 'Toss Pay'],
  naverpay: ['네이버페이', 'Naver Pay'],
  kakaopay: ['카카오페이', 'Kakao Pay'],
  samsungpay: ['삼성페이', 'Samsung Pay'],
  payco: ['페이코', 'PAYCO'],
  ssgpay: ['SSG페이', 'SSG Pay'],
  lpay: ['엘페이', 'L.pay'],
  applepay: ['애플페이', 'Apple Pay'],
}

/** An easy-pay app's name in the current language (the code itself when unknown). */
export function easyPayName(provider) {
  const names = EASY_PAY[provider]
  if (!names) return provider || ''
  return getLanguage() === 'en' ? names[1] : names[0]
}
