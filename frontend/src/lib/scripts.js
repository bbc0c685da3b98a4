// Gateway scripts injected into the page once each (the v2 Toss SDK is loaded by its npm package).

const scripts = new Map()

export class GatewayUnavailable extends Error {
  code = 'GATEWAY_UNAVAILABLE'
}

/** Inject the SDK <script> once; a failed load may be retried. */
export function loadScript(url) {
  if (!scripts.has(url)) {
    const loading = new Promise((resolve, reject) => {
      const script = document.createElement('script')
      script.src = url
      script.async = true
      script.onload = () => resolve()
      script.onerror = () => {
        scripts.delete(url)
        script.remove()
        reject(new GatewayUnavailable(`Could not load ${url}`))
      }
      document.head.appendChild(script)
    })
    scripts.set(url, loading)
  }
  return scripts.get(url)
}

/** Remove a script loadScript injected, so that the next loadScript runs it again. */
export function forgetScript(url) {
  scripts.delete(url)
  for (const script of document.querySelectorAll('script[src]')) {
    if (script.src === url || script.getAttribute('src') === url) script.remove()
  }
}
