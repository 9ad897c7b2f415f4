"""The storefront page's own words in the four shopper locales (the order's
view arrives already translated from plugin.tracking). The widget's script
carries the same strings, so both paths speak alike."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Track your order", "intro": "Enter your order number and the email or phone you ordered with.",
        "order": "Order number", "email": "Email", "phone": "Or phone", "find": "Find my order",
        "not_found": "We could not find an order with these details. Check the order number and the email or phone used to order.",
        "your_orders": "Your orders", "order_name": "Order {name}", "another": "Look up another order",
        "help": "Questions about this order", "tracking": "Tracking number:", "eta": "Estimated delivery: {date}",
        "delivered": "Delivered {when}", "history": "Tracking history", "preparing": "Your order is being prepared.",
        "not_shipped": "Not shipped yet", "for": "For {name}", "to": "Shipping to {city}",
        "no_orders": "You have no orders with this store yet.",
    },
    "fr": {
        "title": "Suivre votre commande", "intro": "Saisissez le numéro de commande et l'e-mail ou le téléphone utilisé pour commander.",
        "order": "Numéro de commande", "email": "E-mail", "phone": "Ou téléphone", "find": "Trouver ma commande",
        "not_found": "Aucune commande ne correspond à ces informations. Vérifiez le numéro et l'e-mail ou le téléphone utilisé.",
        "your_orders": "Vos commandes", "order_name": "Commande {name}", "another": "Rechercher une autre commande",
        "help": "Questions sur cette commande", "tracking": "Numéro de suivi :", "eta": "Livraison estimée : {date}",
        "delivered": "Livré {when}", "history": "Historique du suivi", "preparing": "Votre commande est en préparation.",
        "not_shipped": "Pas encore expédié", "for": "Pour {name}", "to": "Livraison à {city}",
        "no_orders": "Vous n'avez pas encore de commande dans cette boutique.",
    },
    "de": {
        "title": "Bestellung verfolgen", "intro": "Geben Sie die Bestellnummer und die E-Mail-Adresse oder Telefonnummer der Bestellung ein.",
        "order": "Bestellnummer", "email": "E-Mail", "phone": "Oder Telefon", "find": "Bestellung finden",
        "not_found": "Wir haben keine Bestellung mit diesen Angaben gefunden. Prüfen Sie die Bestellnummer und die E-Mail-Adresse oder Telefonnummer.",
        "your_orders": "Ihre Bestellungen", "order_name": "Bestellung {name}", "another": "Andere Bestellung suchen",
        "help": "Fragen zu dieser Bestellung", "tracking": "Sendungsnummer:", "eta": "Voraussichtliche Zustellung: {date}",
        "delivered": "Zugestellt {when}", "history": "Sendungsverlauf", "preparing": "Ihre Bestellung wird vorbereitet.",
        "not_shipped": "Noch nicht versandt", "for": "Für {name}", "to": "Lieferung nach {city}",
        "no_orders": "Sie haben in diesem Shop noch keine Bestellungen.",
    },
    "es": {
        "title": "Sigue tu pedido", "intro": "Introduce el número de pedido y el correo o teléfono con el que compraste.",
        "order": "Número de pedido", "email": "Correo electrónico", "phone": "O teléfono", "find": "Buscar mi pedido",
        "not_found": "No encontramos ningún pedido con estos datos. Revisa el número de pedido y el correo o teléfono usado.",
        "your_orders": "Tus pedidos", "order_name": "Pedido {name}", "another": "Buscar otro pedido",
        "help": "Preguntas sobre este pedido", "tracking": "Número de seguimiento:", "eta": "Entrega estimada: {date}",
        "delivered": "Entregado {when}", "history": "Historial de seguimiento", "preparing": "Tu pedido se está preparando.",
        "not_shipped": "Aún no enviado", "for": "Para {name}", "to": "Envío a {city}",
        "no_orders": "Aún no tienes pedidos en esta tienda.",
    },
}


def strings(locale: str) -> dict[str, str]:
    return STRINGS.get(locale, STRINGS["en"])
