/* <aftercare-widget>: look up an order and follow its parcels, on the store's own site.
 *
 * One dependency-free custom element. Native <form>, <button> and <details>; ARIA only
 * where HTML has none (the live status region). Data is rendered with textContent only.
 * Inside the theme (app proxy) it calls `api` (e.g. /apps/aftercare/api); embedded by
 * <script src=".../widgets/aftercare.js" data-shop="x.myshopify.com"> it calls the app's
 * /widgets/api with ?shop=. intent="returns" titles it for a returns page and shows the
 * returns before the parcels. Events (bubbling, composed): aftercare-lookup (cancelable),
 * aftercare-order, aftercare-error, aftercare-contact, aftercare-return.
 */
(() => {
  'use strict'
  const SCRIPT = document.currentScript
  const STRINGS = {
    en: {notFound: 'We could not find an order with these details. Check the order number and the email or phone used to order.', tooMany: 'Too many attempts. Please wait a minute and try again.', tooLong: 'Your message is too long: 5,000 characters at most.', attempted: 'The carrier tried to deliver this parcel. Check the carrier’s page for the next attempt.', failure: 'The carrier could not deliver this parcel. The store has been told and will be in touch.', action: 'The carrier needs something from you. Check the carrier’s page.', title: 'Track your order', intro: 'Enter your order number and the email or phone you ordered with.', order: 'Order number', email: 'Email', phone: 'Or phone', find: 'Find my order', finding: 'Looking for your order…', found: 'Order {name} found.', orderName: 'Order {name}', for: 'For {name}', to: 'Shipping to {city}', tracking: 'Tracking number:', eta: 'Estimated delivery: {date}', delivered: 'Delivered {when}', history: 'Tracking history', preparing: 'Your order is being prepared. You will get an email when it ships.', notShipped: 'Not shipped yet', parcel: 'Parcel {n} of {count}', another: 'Look up another order', help: 'Questions about this order', search: 'Search the answers', matches: '{count} answers', still: 'Still need help?', message: 'Your message', send: 'Send to the store', sent: 'Thank you. The store has your message and your order’s details, and will answer by email.', failed: 'Something went wrong. Please try again.', asOf: 'Checked at {time}', needOne: 'Enter the email or the phone number you ordered with.', returns: 'Returns', requestReturn: 'Request a return', quantity: 'Quantity', reason: 'Reason', note: 'Note (optional)', sendReturn: 'Send return request', sending: 'Sending your request…', until: 'Returnable until {date}', requestedOn: 'Return requested on {date}', returnSent: 'Your return request was sent. Status: {status}. {next}', instructions: 'Instructions from the store', errQuantity: 'Choose how many to return.', errReason: 'Choose a reason from the list.', errNote: 'Your note is too long: 1,000 characters at most.', errItem: 'This item cannot be returned.', returnsTitle: 'Return an item'},
    fr: {notFound: 'Aucune commande ne correspond à ces informations. Vérifiez le numéro et l’e-mail ou le téléphone utilisé.', tooMany: 'Trop de tentatives. Patientez une minute puis réessayez.', tooLong: 'Votre message est trop long : 5 000 caractères au plus.', attempted: 'Le transporteur a tenté de livrer ce colis. Consultez sa page pour la prochaine tentative.', failure: 'Le transporteur n’a pas pu livrer ce colis. La boutique est prévenue et vous contactera.', action: 'Le transporteur a besoin d’une action de votre part. Consultez sa page.', title: 'Suivre votre commande', intro: 'Saisissez le numéro de commande et l’e-mail ou le téléphone utilisé pour commander.', order: 'Numéro de commande', email: 'E-mail', phone: 'Ou téléphone', find: 'Trouver ma commande', finding: 'Recherche de votre commande…', found: 'Commande {name} trouvée.', orderName: 'Commande {name}', for: 'Pour {name}', to: 'Livraison à {city}', tracking: 'Numéro de suivi :', eta: 'Livraison estimée : {date}', delivered: 'Livré {when}', history: 'Historique du suivi', preparing: 'Votre commande est en préparation. Vous recevrez un e-mail à son expédition.', notShipped: 'Pas encore expédié', parcel: 'Colis {n} sur {count}', another: 'Rechercher une autre commande', help: 'Questions sur cette commande', search: 'Rechercher dans les réponses', matches: '{count} réponses', still: 'Besoin d’aide ?', message: 'Votre message', send: 'Envoyer à la boutique', sent: 'Merci. La boutique a reçu votre message et les détails de votre commande, et vous répondra par e-mail.', failed: 'Une erreur est survenue. Veuillez réessayer.', asOf: 'Vérifié à {time}', needOne: 'Saisissez l’e-mail ou le téléphone utilisé pour commander.', returns: 'Retours', requestReturn: 'Demander un retour', quantity: 'Quantité', reason: 'Motif', note: 'Remarque (facultatif)', sendReturn: 'Envoyer la demande de retour', sending: 'Envoi de votre demande…', until: 'Retour possible jusqu’au {date}', requestedOn: 'Retour demandé le {date}', returnSent: 'Votre demande de retour a été envoyée. Statut : {status}. {next}', instructions: 'Instructions de la boutique', errQuantity: 'Choisissez combien d’articles retourner.', errReason: 'Choisissez un motif dans la liste.', errNote: 'Votre remarque est trop longue : 1 000 caractères au plus.', errItem: 'Cet article ne peut pas être retourné.', returnsTitle: 'Retourner un article'},
    de: {notFound: 'Wir haben keine Bestellung mit diesen Angaben gefunden. Prüfen Sie die Bestellnummer und die E-Mail-Adresse oder Telefonnummer.', tooMany: 'Zu viele Versuche. Bitte warten Sie eine Minute.', tooLong: 'Ihre Nachricht ist zu lang: höchstens 5.000 Zeichen.', attempted: 'Der Zusteller hat versucht, dieses Paket zuzustellen. Den nächsten Versuch finden Sie auf seiner Seite.', failure: 'Der Zusteller konnte dieses Paket nicht zustellen. Der Shop weiß Bescheid und meldet sich.', action: 'Der Zusteller braucht etwas von Ihnen. Sehen Sie auf seiner Seite nach.', title: 'Bestellung verfolgen', intro: 'Geben Sie die Bestellnummer und die E-Mail-Adresse oder Telefonnummer der Bestellung ein.', order: 'Bestellnummer', email: 'E-Mail', phone: 'Oder Telefon', find: 'Bestellung finden', finding: 'Bestellung wird gesucht…', found: 'Bestellung {name} gefunden.', orderName: 'Bestellung {name}', for: 'Für {name}', to: 'Lieferung nach {city}', tracking: 'Sendungsnummer:', eta: 'Voraussichtliche Zustellung: {date}', delivered: 'Zugestellt {when}', history: 'Sendungsverlauf', preparing: 'Ihre Bestellung wird vorbereitet. Sie erhalten eine E-Mail, sobald sie versandt ist.', notShipped: 'Noch nicht versandt', parcel: 'Paket {n} von {count}', another: 'Andere Bestellung suchen', help: 'Fragen zu dieser Bestellung', search: 'Antworten durchsuchen', matches: '{count} Antworten', still: 'Brauchen Sie noch Hilfe?', message: 'Ihre Nachricht', send: 'An den Shop senden', sent: 'Danke. Der Shop hat Ihre Nachricht und die Details Ihrer Bestellung und antwortet per E-Mail.', failed: 'Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.', asOf: 'Stand {time}', needOne: 'Geben Sie die E-Mail-Adresse oder Telefonnummer der Bestellung ein.', returns: 'Rücksendungen', requestReturn: 'Rücksendung anfragen', quantity: 'Menge', reason: 'Grund', note: 'Anmerkung (optional)', sendReturn: 'Rücksendung anfragen', sending: 'Ihre Anfrage wird gesendet…', until: 'Rücksendung möglich bis {date}', requestedOn: 'Rücksendung angefragt am {date}', returnSent: 'Ihre Rücksendeanfrage wurde gesendet. Status: {status}. {next}', instructions: 'Hinweise des Shops', errQuantity: 'Wählen Sie, wie viele Sie zurücksenden.', errReason: 'Wählen Sie einen Grund aus der Liste.', errNote: 'Ihre Anmerkung ist zu lang: höchstens 1.000 Zeichen.', errItem: 'Dieser Artikel kann nicht zurückgesendet werden.', returnsTitle: 'Artikel zurücksenden'},
    es: {notFound: 'No encontramos ningún pedido con estos datos. Revisa el número de pedido y el correo o teléfono usado.', tooMany: 'Demasiados intentos. Espera un minuto e inténtalo de nuevo.', tooLong: 'Tu mensaje es demasiado largo: 5000 caracteres como máximo.', attempted: 'El transportista intentó entregar este paquete. Consulta su página para el próximo intento.', failure: 'El transportista no pudo entregar este paquete. La tienda ya lo sabe y se pondrá en contacto.', action: 'El transportista necesita algo de ti. Consulta su página.', title: 'Sigue tu pedido', intro: 'Introduce el número de pedido y el correo o teléfono con el que compraste.', order: 'Número de pedido', email: 'Correo electrónico', phone: 'O teléfono', find: 'Buscar mi pedido', finding: 'Buscando tu pedido…', found: 'Pedido {name} encontrado.', orderName: 'Pedido {name}', for: 'Para {name}', to: 'Envío a {city}', tracking: 'Número de seguimiento:', eta: 'Entrega estimada: {date}', delivered: 'Entregado {when}', history: 'Historial de seguimiento', preparing: 'Tu pedido se está preparando. Recibirás un correo cuando se envíe.', notShipped: 'Aún no enviado', parcel: 'Paquete {n} de {count}', another: 'Buscar otro pedido', help: 'Preguntas sobre este pedido', search: 'Buscar en las respuestas', matches: '{count} respuestas', still: '¿Aún necesitas ayuda?', message: 'Tu mensaje', send: 'Enviar a la tienda', sent: 'Gracias. La tienda tiene tu mensaje y los datos de tu pedido, y te responderá por correo.', failed: 'Algo salió mal. Inténtalo de nuevo.', asOf: 'Comprobado a las {time}', needOne: 'Introduce el correo o el teléfono con el que compraste.', returns: 'Devoluciones', requestReturn: 'Solicitar una devolución', quantity: 'Cantidad', reason: 'Motivo', note: 'Nota (opcional)', sendReturn: 'Enviar solicitud de devolución', sending: 'Enviando tu solicitud…', until: 'Puedes devolverlo hasta el {date}', requestedOn: 'Devolución solicitada el {date}', returnSent: 'Tu solicitud de devolución se ha enviado. Estado: {status}. {next}', instructions: 'Instrucciones de la tienda', errQuantity: 'Elige cuántos quieres devolver.', errReason: 'Elige un motivo de la lista.', errNote: 'Tu nota es demasiado larga: 1000 caracteres como máximo.', errItem: 'Este artículo no se puede devolver.', returnsTitle: 'Devolver un artículo'}
  }
  const MAX_MESSAGE = 5000
  const MAX_NOTE = 1000

  // Intl formatters cached per (locale, options): building one is costly, using one is not.
  const formatters = new Map()
  function intl(Kind, locale, options) {
    const key = `${Kind.name}|${locale}|${JSON.stringify(options)}`
    let f = formatters.get(key)
    if (!f) {
      if (formatters.size > 50) formatters.delete(formatters.keys().next().value)
      f = new Kind(locale, options)
      formatters.set(key, f)
    }
    return f
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m))
  }

  // h('p', {class: 'x'}, 'text', child): elements from data, text always as text nodes.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue
      if (k === 'text') el.textContent = v
      else el.setAttribute(k, v === true ? '' : v)
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(c)
    return el
  }

  let uid = 0

  class AftercareWidget extends HTMLElement {
    static get observedAttributes() { return ['token'] }

    connectedCallback() {
      this.abort = new AbortController()
      this.id_ = `aftercare-${++uid}`
      this.locale = this.pickLocale()
      // Heading level of the widget's title (1 when it is the page's main content), parcels one below.
      this.level = Math.min(Math.max(parseInt(this.getAttribute('level'), 10) || 2, 1), 5)
      this.t = STRINGS[this.locale]
      this.forReturns = this.getAttribute('intent') === 'returns'
      this.textContent = ''
      this.status = h('p', {class: 'aftercare-live', 'aria-live': 'polite'})
      this.body = h('div', {class: 'aftercare-body'})
      this.append(this.body, this.status)
      const token = this.getAttribute('token')
      if (token) this.load(`orders/${encodeURIComponent(token)}`, {method: 'GET'})
      else this.showForm()
    }

    disconnectedCallback() {
      this.abort.abort() // removes every listener added with its signal
    }

    attributeChangedCallback(name, old, value) {
      if (this.abort && value && value !== old) this.load(`orders/${encodeURIComponent(value)}`, {method: 'GET'})
    }

    on(el, type, fn) {
      el.addEventListener(type, fn, {signal: this.abort.signal})
    }

    emit(name, detail, cancelable = false) {
      return this.dispatchEvent(new CustomEvent(`aftercare-${name}`, {bubbles: true, composed: true, cancelable, detail}))
    }

    pickLocale() {
      const tag = ((this.closest('[lang]') || document.documentElement).getAttribute('lang') || 'en').toLowerCase()
      const base = tag.split('-')[0]
      return STRINGS[base] ? base : 'en'
    }

    endpoint(path) {
      const shop = this.getAttribute('shop') || (SCRIPT && SCRIPT.dataset.shop) || ''
      // Inside the theme: the proxy's own prefix (/apps/aftercare), from the attribute or the page's address.
      const here = location.pathname.match(/^\/(apps|a|community|tools)\/[^/]+/)
      const api = this.getAttribute('api') || (!shop && here ? `${here[0]}/api` : '')
      if (api) return `${api.replace(/\/$/, '')}/${path}`
      const base = SCRIPT ? new URL('.', SCRIPT.src).href : '/widgets/'
      return `${base}api/${path}${path.includes('?') ? '&' : '?'}shop=${encodeURIComponent(shop)}`
    }

    // The shopper's words for what the API answered (its messages are English).
    problem(error) {
      const t = this.t
      return {not_found: t.notFound, too_many_requests: t.tooMany, too_long: t.tooLong, empty: t.message}[error] || t.failed
    }

    get api() { return this.getAttribute('api') }
    set api(value) { this.setAttribute('api', value) }
    get shop() { return this.getAttribute('shop') }
    set shop(value) { this.setAttribute('shop', value) }
    get token() { return this.getAttribute('token') }
    set token(value) { this.setAttribute('token', value) }

    say(text) {
      this.status.textContent = text
    }

    showForm(typed = {}) {
      const t = this.t
      const id = this.id_
      const field = (name, label, attrs) => h('p', {class: 'aftercare-field'},
        h('label', {for: `${id}-${name}`, text: label}),
        h('input', {id: `${id}-${name}`, name, value: typed[name] || '', ...attrs}))
      const error = h('p', {class: 'aftercare-error', id: `${id}-error`, role: 'alert', hidden: true})
      const form = h('form', {class: 'aftercare-lookup', novalidate: true},
        h(`h${this.level}`, {class: 'aftercare-title', text: this.forReturns ? t.returnsTitle : t.title}),
        h('p', {text: t.intro}),
        error,
        field('order', t.order, {required: true, autocomplete: 'off', maxlength: 64}),
        field('email', t.email, {type: 'email', autocomplete: 'email', maxlength: 320}),
        field('phone', t.phone, {type: 'tel', autocomplete: 'tel', maxlength: 64}),
        h('p', {}, h('button', {type: 'submit', class: 'aftercare-button', text: t.find})))
      this.on(form, 'submit', (event) => {
        event.preventDefault()
        const data = Object.fromEntries(new FormData(form))
        if (!data.order.trim() || (!data.email.trim() && !data.phone.trim())) {
          error.textContent = data.order.trim() ? t.needOne : `${t.order}?`
          error.hidden = false
          form.querySelector(data.order.trim() ? 'input[name=email]' : 'input[name=order]').focus()
          return
        }
        if (!data.email.trim()) delete data.email
        if (!data.phone.trim()) delete data.phone
        if (!this.emit('lookup', {order: data.order}, true)) return
        data.locale = this.locale
        this.load('lookup', {method: 'POST', body: JSON.stringify(data)}, form)
      })
      this.body.replaceChildren(form)
      return form
    }

    async request(path, init) {
      const headers = init.body ? {'Content-Type': 'application/json'} : {}
      const response = await fetch(this.endpoint(path), {...init, headers, credentials: 'omit'})
      let data = {}
      try { data = await response.json() } catch (e) { data = {} }
      return {response, data}
    }

    async load(path, init, form) {
      const button = form && form.querySelector('button')
      if (button) button.disabled = true
      this.setAttribute('aria-busy', 'true')
      this.say(this.t.finding)
      try {
        const {response, data} = await this.request(path, init)
        if (!response.ok) {
          const message = this.problem(data.error)
          this.emit('error', {status: response.status, error: data.error})
          const again = form || this.showForm()
          const error = again.querySelector('.aftercare-error')
          error.textContent = message
          error.hidden = false
          this.say('')
          again.querySelector('input[name=order]').focus()
          return
        }
        this.showOrder(data)
      } catch (e) {
        this.say(this.t.failed)
      } finally {
        if (button) button.disabled = false
        this.removeAttribute('aria-busy')
      }
    }

    showOrder(data) {
      const t = this.t
      const order = data.order
      this.current = data.token
      if (data.branding && data.branding.color && !getComputedStyle(this).getPropertyValue('--aftercare-brand').trim()) {
        this.style.setProperty('--aftercare-brand', data.branding.color)
      }
      const heading = h(`h${this.level}`, {class: 'aftercare-title', tabindex: '-1', text: fill(t.orderName, {name: order.order_name})})
      const who = [order.first_name && fill(t.for, {name: order.first_name}), order.city && fill(t.to, {city: order.city})]
      const time = intl(Intl.DateTimeFormat, this.locale, {hour: 'numeric', minute: '2-digit'}).format(new Date())
      const parts = [heading,
        h('p', {class: 'aftercare-muted', text: who.filter(Boolean).join(' · ')}),
        h('p', {class: 'aftercare-muted', text: fill(t.asOf, {time})})]
      // On a returns page (intent="returns") the returns come first, then where the parcels are.
      const returns = data.returns && data.returns.show ? this.returns(data.returns, order.order_name) : null
      if (this.forReturns && returns) parts.push(returns)
      if (!order.parcels.length) parts.push(h('section', {class: 'aftercare-parcel'}, h('p', {text: t.preparing})))
      order.parcels.forEach((parcel) => parts.push(this.parcel(parcel)))
      if (order.parcels.length && order.not_yet_shipped.length) {
        parts.push(h('section', {class: 'aftercare-parcel'}, h(`h${this.level + 1}`, {class: 'aftercare-subtitle', text: t.notShipped}),
          h('ul', {}, order.not_yet_shipped.map((i) => h('li', {text: item(i)})))))
      }
      if (!this.forReturns && returns) parts.push(returns)
      if (data.help && data.help.answers.length) parts.push(this.answers(data.help.answers))
      if (data.help && data.help.contact) parts.push(this.contact(order.order_name))
      const again = h('button', {type: 'button', class: 'aftercare-link', text: t.another})
      this.on(again, 'click', () => {
        this.showForm().querySelector('input[name=order]').focus()
        this.say('')
      })
      parts.push(h('p', {}, again))
      this.body.replaceChildren(h('div', {class: 'aftercare-result'}, parts))
      this.say(fill(t.found, {name: order.order_name}))
      heading.focus()
      this.emit('order', {order: order.order_name, parcels: order.parcels.length})
    }

    parcel(p) {
      const t = this.t
      const id = `${this.id_}-parcel-${p.number}`
      const section = h('section', {class: 'aftercare-parcel', 'aria-labelledby': id})
      if (p.count > 1) section.append(h('p', {class: 'aftercare-muted aftercare-small', text: fill(t.parcel, {n: p.number, count: p.count})}))
      section.append(h(`h${this.level + 1}`, {id, class: 'aftercare-subtitle', text: p.headline}),
        h('ol', {class: 'aftercare-steps'}, p.steps.map((s) => h('li', {class: s.state, 'aria-current': s.state === 'current' ? 'step' : false, text: s.label}))))
      const why = {attempted_delivery: t.attempted, failure: t.failure, returning_to_sender: t.failure, buyer_action_required: t.action}[p.exception]
      if (why) section.append(h('p', {class: 'aftercare-exception', text: why}))
      if (p.delivered_at) section.append(h('p', {text: fill(t.delivered, {when: p.delivered_at})}))
      else if (p.estimated_delivery) section.append(h('p', {class: 'aftercare-eta', text: fill(t.eta, {date: p.estimated_delivery})}))
      for (const tr of p.tracking) {
        if (!tr.number && !tr.url) continue
        const safe = tr.url && /^https?:\/\//i.test(tr.url) ? tr.url : null
        const label = tr.number || p.carrier || t.tracking
        section.append(h('p', {}, `${t.tracking} `, safe ? h('a', {href: safe, rel: 'noopener noreferrer', target: '_blank', text: label}) : label,
          p.carrier ? ` (${p.carrier})` : ''))
      }
      if (p.items.length) section.append(h('ul', {class: 'aftercare-items'}, p.items.map((i) => h('li', {text: item(i)}))))
      if (p.events.length) {
        section.append(h('details', {open: true}, h('summary', {text: t.history}),
          h('ol', {class: 'aftercare-events'}, p.events.map((e) => h('li', {},
            h('strong', {text: e.label}), e.message ? ` · ${e.message}` : '', h('br'),
            h('span', {class: 'aftercare-muted', text: [e.time, e.place].filter(Boolean).join(' · ')}))))))
      }
      return section
    }

    // The order's returns: the requests made, with status and what happens next, then each
    // item with its own small form (or why it cannot go back). Rebuilt whole after a request.
    returns(r, name) {
      const id = `${this.id_}-returns`
      return h('section', {class: 'aftercare-returns', 'aria-labelledby': id},
        h(`h${this.level + 1}`, {id, class: 'aftercare-subtitle', text: this.t.returns}),
        r.requests.map((q) => this.returnRequest(q)),
        h('ul', {class: 'aftercare-returnable'}, r.items.map((i) => this.returnable(i, r.reasons, name))))
    }

    returnRequest(q) {
      const t = this.t
      const id = `${this.id_}-return-${q.id}`
      return h('section', {class: 'aftercare-request', 'aria-labelledby': id},
        h(`h${this.level + 2}`, {id, class: 'aftercare-request-title', tabindex: '-1'}, fill(t.requestedOn, {date: q.requested_at}), ' ',
          h('span', {class: `aftercare-badge aftercare-${q.status}`, text: q.status_label})),
        h('ul', {class: 'aftercare-items'}, q.items.map((i) => h('li', {}, `${item(i)} · ${i.reason}`,
          i.note ? [h('br'), h('span', {class: 'aftercare-muted', text: i.note})] : null))),
        h('p', {text: q.next}),
        q.instructions ? h('p', {class: 'aftercare-instructions'}, h('strong', {text: t.instructions}), h('br'), q.instructions) : null,
        q.decline_reason ? h('p', {text: [q.decline_reason, q.decline_note].filter(Boolean).join(' ')}) : null)
    }

    returnable(i, reasons, name) {
      const t = this.t
      const li = h('li', {}, h('strong', {text: item(i)}), h('br'))
      if (!i.returnable) {
        li.append(h('span', {class: 'aftercare-muted', text: i.why_text}))
        return li
      }
      if (i.until) li.append(h('span', {class: 'aftercare-muted', text: fill(t.until, {date: i.until})}))
      const id = `${this.id_}-item-${i.line_item_id}`
      const field = (key, label, control) => h('p', {class: 'aftercare-field'}, h('label', {for: `${id}-${key}`, text: label}), control)
      const quantity = h('select', {id: `${id}-quantity`}, Array.from({length: i.returnable}, (_, n) => h('option', {text: String(n + 1)})))
      const reason = h('select', {id: `${id}-reason`}, reasons.map((r) => h('option', {value: r.code, text: r.label})))
      const note = h('textarea', {id: `${id}-note`, rows: 3, maxlength: MAX_NOTE})
      const error = h('p', {class: 'aftercare-error', role: 'alert', hidden: true})
      const button = h('button', {type: 'submit', class: 'aftercare-button', text: t.sendReturn})
      const form = h('form', {class: 'aftercare-return'}, error, field('quantity', t.quantity, quantity),
        field('reason', t.reason, reason), field('note', t.note, note), h('p', {}, button))
      // One key per form: a double click or a retried request makes one return request.
      const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`
      this.on(form, 'submit', async (event) => {
        event.preventDefault()
        if (button.disabled) return
        button.disabled = true
        this.say(t.sending)
        const items = [{line_item_id: i.line_item_id, quantity: Number(quantity.value), reason: reason.value, note: note.value.trim() || null}]
        try {
          const {response, data} = await this.request('returns', {method: 'POST', body: JSON.stringify({token: this.current, key, locale: this.locale, items})})
          if (!response.ok) {
            const where = {invalid_quantity: [t.errQuantity, quantity], invalid_reason: [t.errReason, reason], invalid_note: [t.errNote, note],
              invalid_item: [t.errItem, quantity], not_returnable: [t.errItem, quantity]}[data.error] || [this.problem(data.error), quantity]
            error.textContent = where[0]
            error.hidden = false
            this.say('')
            this.emit('error', {status: response.status, error: data.error})
            where[1].focus()
            return
          }
          const fresh = this.returns(data.returns, name)
          form.closest('.aftercare-returns').replaceWith(fresh)
          this.say(fill(t.returnSent, {status: data.return.status_label, next: data.return.next}))
          fresh.querySelector(`[id="${this.id_}-return-${data.return.id}"]`).focus()
          this.emit('return', {order: name, id: data.return.id, status: data.return.status})
        } catch (e) {
          error.textContent = t.failed
          error.hidden = false
          this.say('')
        } finally {
          button.disabled = false
        }
      })
      li.append(h('details', {}, h('summary', {text: t.requestReturn}), form))
      return li
    }

    answers(list) {
      const t = this.t
      const id = `${this.id_}-help`
      const search = h('input', {id: `${id}-search`, type: 'search', autocomplete: 'off'})
      const count = h('p', {class: 'aftercare-muted aftercare-small', 'aria-live': 'polite'})
      const items = list.map((a) => h('details', {class: 'aftercare-answer'}, h('summary', {text: a.question}), h('p', {text: a.answer})))
      this.on(search, 'input', () => {
        const words = search.value.toLocaleLowerCase(this.locale).split(/\s+/).filter(Boolean)
        let shown = 0
        for (const d of items) {
          const text = d.textContent.toLocaleLowerCase(this.locale)
          d.hidden = !words.every((w) => text.includes(w))
          if (!d.hidden) shown++
        }
        count.textContent = words.length ? fill(t.matches, {count: intl(Intl.NumberFormat, this.locale, {}).format(shown)}) : ''
      })
      const parts = [h(`h${this.level + 1}`, {id, class: 'aftercare-subtitle', text: t.help})]
      if (list.length > 3) parts.push(h('p', {class: 'aftercare-field'}, h('label', {for: search.id, text: t.search}), search), count)
      return h('section', {class: 'aftercare-help', 'aria-labelledby': id}, parts, items)
    }

    contact(name) {
      const t = this.t
      const id = `${this.id_}-contact`
      const box = h('textarea', {id: `${id}-message`, name: 'message', rows: 4, maxlength: MAX_MESSAGE, required: true})
      const note = h('p', {class: 'aftercare-status', role: 'status'})
      const button = h('button', {type: 'submit', class: 'aftercare-button', text: t.send})
      const form = h('form', {class: 'aftercare-contact'}, h('p', {class: 'aftercare-field'}, h('label', {for: box.id, text: t.message}), box), h('p', {}, button), note)
      this.on(form, 'submit', async (event) => {
        event.preventDefault()
        if (!box.value.trim()) { box.focus(); return }
        button.disabled = true
        try {
          const {response, data} = await this.request('contact', {method: 'POST', body: JSON.stringify({token: this.current, message: box.value})})
          note.textContent = response.ok ? t.sent : data.error === 'no_support_address' ? data.message : this.problem(data.error)
          if (response.ok) { box.value = ''; this.emit('contact', {order: name}) }
        } catch (e) {
          note.textContent = t.failed
        } finally {
          button.disabled = false
        }
      })
      return h('details', {class: 'aftercare-still'}, h('summary', {text: t.still}), form)
    }
  }

  function item(i) {
    return `${i.quantity} × ${i.title}${i.variant ? ` (${i.variant})` : ''}`
  }

  if (!customElements.get('aftercare-widget')) {
    try {
      customElements.define('aftercare-widget', AftercareWidget)
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'NotSupportedError')) throw e
    }
  }
  // Embedded by script tag: load the style sheet beside the script once.
  if (SCRIPT && SCRIPT.src && !document.querySelector('link[data-aftercare]')) {
    const v = new URL(SCRIPT.src).searchParams.get('v')
    const href = new URL(`aftercare.css${v ? `?v=${v}` : ''}`, SCRIPT.src).href
    if (!document.querySelector(`link[href^="${href.split('?')[0]}"]`)) {
      document.head.append(h('link', {rel: 'stylesheet', href, 'data-aftercare': true}))
    }
  }
})()
