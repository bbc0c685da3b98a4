import { expect, test } from 'vitest'
import { devToolsEnabled } from './config.js'

test('the dev-only controls show in local and test mode', () => {
  expect(devToolsEnabled({ mode: 'local' })).toBe(true)
  expect(devToolsEnabled({ mode: 'test' })).toBe(true)
})

test('the dev-only controls never show in real mode, or before the config is known', () => {
  expect(devToolsEnabled({ mode: 'real' })).toBe(false)
  expect(devToolsEnabled({})).toBe(false)
  expect(devToolsEnabled(null)).toBe(false)
})
