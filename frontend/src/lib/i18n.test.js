import { afterEach, describe, expect, test } from 'vitest'
import { formatMoney } from './format.js'
import { getLanguage, missingKeys, setLanguage, t } from './i18n.js'
import { errorText, statusHeadline, statusLabel } from './messages.js'
import { checkRefundAccount } from './refunds.js'

afterEach(() => setLanguage('ko'))

describe('i18n', () => {
  test('Korean is the default and both languages have every text', () => {
    expect(getLanguage()).toBe('ko')
    expect(missingKeys()).toEqual({ ko: [], en: [] })
  })

  test('placeholders are filled, and the confirmation reads like the issue asks', () => {
    expect(t('refund.confirm', { amount: formatMoney(56000, 'KRW') })).toBe('56,000원을 환불할까요?')
    setLanguage('en')
    expect(t('refund.confirm', { amount: formatMoney(56000, 'KRW') })).toBe('Refund 56,000원?')
  })

  test('an unknown language falls back to Korean', () => {
    setLanguage('fr')
    expect(getLanguage()).toBe('ko')
  })
})

describe('messages', () => {
  test('pages lead with what happened', () => {
    expect(statusHeadline('paid')).toBe('결제가 완료되었습니다')
    expect(statusLabel('awaiting_deposit')).toBe('입금 대기')
    setLanguage('en')
    expect(statusHeadline('paid')).toBe('Payment complete')
  })

  test('gateway codes become the demo’s own words in both languages', () => {
    const limit = { code: 'REJECT_CARD_PAYMENT', message: '한도초과 혹은 잔액부족으로 결제에 실패했습니다.' }
    expect(errorText(limit)).toBe('카드 한도를 넘었거나 잔액이 부족합니다. 다른 카드로 결제해 주세요.')
    setLanguage('en')
    expect(errorText(limit)).toBe(
      'The card’s limit is exceeded or its balance is too low. Please try another card.',
    )
    const refused = { code: 'GATEWAY_REFUSED', body: { gateway_code: 'INVALID_REFUND_ACCOUNT_NUMBER' } }
    expect(errorText(refused)).toBe('The refund account number is not valid.')
  })

  test('a decline at confirm speaks of its gateway code', () => {
    const declined = {
      code: 'PAYMENT_DECLINED',
      message: 'The payment was declined: 하루 결제 가능 횟수를 초과했습니다.',
      gateway_code: 'EXCEED_MAX_DAILY_PAYMENT_COUNT',
    }
    expect(errorText(declined)).toBe('이 카드의 하루 결제 횟수를 넘었습니다. 다른 카드로 결제해 주세요.')
    expect(errorText({ ...declined, gateway_code: 'SOMETHING_NEW' })).toBe(
      '카드 결제가 거절되었습니다. 다른 카드로 결제해 주세요 (The payment was declined: 하루 결제 가능 횟수를 초과했습니다)',
    )
  })

  test('a PG decline without a known code keeps its words in brackets', () => {
    expect(errorText({ code: 'F111', message: '거래거절 카드사 승인거절' })).toBe(
      '카드 결제가 거절되었습니다. 다른 카드로 결제해 주세요 (거래거절 카드사 승인거절)',
    )
    expect(errorText({ code: 'PAY_PROCESS_CANCELED', message: '' })).toBe(
      '결제하기 전에 결제창이 닫혔습니다.',
    )
  })
})

describe('the refund account', () => {
  test('bank, 6 to 20 digits with hyphens, and a holder', () => {
    const good = { bank: '88', account: ' 110-123-456789 ', holder: ' 홍길동 ' }
    expect(checkRefundAccount(good)).toEqual({
      account: { bank: '88', account: '110-123-456789', holder: '홍길동' },
    })
    expect(checkRefundAccount({ ...good, bank: '' }).error).toMatch(/은행/)
    expect(checkRefundAccount({ ...good, account: '12-34' }).error).toMatch(/계좌번호/)
    expect(checkRefundAccount({ ...good, account: '110-12a-456' }).error).toMatch(/계좌번호/)
    expect(checkRefundAccount({ ...good, account: '1'.repeat(21) }).error).toMatch(/계좌번호/)
    expect(checkRefundAccount({ ...good, holder: ' ' }).error).toMatch(/예금주/)
  })
})
