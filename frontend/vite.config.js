import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run dev` forwards the API to the backend of `make run` (or BACKEND_URL).
const backend = process.env.BACKEND_URL || 'http://127.0.0.1:37821'

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': backend,
      '/payments': backend,
      '/monitors': backend,
    },
  },
})
