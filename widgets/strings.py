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
        "returns": "Returns", "request_return": "Request a return", "quantity": "Quantity", "reason": "Reason",
        "note": "Note (optional)", "send_return": "Send return request", "until": "Returnable until {date}",
        "requested_on": "Return requested on {date}", "return_sent": "Your return request was sent.",
        "instructions": "Instructions from the store", "err_invalid_quantity": "Choose how many to return.",
        "err_invalid_reason": "Choose a reason from the list.",
        "err_invalid_note": "Your note is too long: 1,000 characters at most.",
        "err_invalid_item": "This item cannot be returned.", "err_not_returnable": "This item cannot be returned.",
        "err_failed": "Something went wrong. Please try again.",
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
        "returns": "Retours", "request_return": "Demander un retour", "quantity": "Quantité", "reason": "Motif",
        "note": "Remarque (facultatif)", "send_return": "Envoyer la demande de retour", "until": "Retour possible jusqu'au {date}",
        "requested_on": "Retour demandé le {date}", "return_sent": "Votre demande de retour a été envoyée.",
        "instructions": "Instructions de la boutique", "err_invalid_quantity": "Choisissez combien d'articles retourner.",
        "err_invalid_reason": "Choisissez un motif dans la liste.",
        "err_invalid_note": "Votre remarque est trop longue : 1 000 caractères au plus.",
        "err_invalid_item": "Cet article ne peut pas être retourné.", "err_not_returnable": "Cet article ne peut pas être retourné.",
        "err_failed": "Une erreur est survenue. Veuillez réessayer.",
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
        "returns": "Rücksendungen", "request_return": "Rücksendung anfragen", "quantity": "Menge", "reason": "Grund",
        "note": "Anmerkung (optional)", "send_return": "Rücksendung anfragen", "until": "Rücksendung möglich bis {date}",
        "requested_on": "Rücksendung angefragt am {date}", "return_sent": "Ihre Rücksendeanfrage wurde gesendet.",
        "instructions": "Hinweise des Shops", "err_invalid_quantity": "Wählen Sie, wie viele Sie zurücksenden.",
        "err_invalid_reason": "Wählen Sie einen Grund aus der Liste.",
        "err_invalid_note": "Ihre Anmerkung ist zu lang: höchstens 1.000 Zeichen.",
        "err_invalid_item": "Dieser Artikel kann nicht zurückgesendet werden.", "err_not_returnable": "Dieser Artikel kann nicht zurückgesendet werden.",
        "err_failed": "Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.",
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
        "returns": "Devoluciones", "request_return": "Solicitar una devolución", "quantity": "Cantidad", "reason": "Motivo",
        "note": "Nota (opcional)", "send_return": "Enviar solicitud de devolución", "until": "Puedes devolverlo hasta el {date}",
        "requested_on": "Devolución solicitada el {date}", "return_sent": "Tu solicitud de devolución se ha enviado.",
        "instructions": "Instrucciones de la tienda", "err_invalid_quantity": "Elige cuántos quieres devolver.",
        "err_invalid_reason": "Elige un motivo de la lista.",
        "err_invalid_note": "Tu nota es demasiado larga: 1000 caracteres como máximo.",
        "err_invalid_item": "Este artículo no se puede devolver.", "err_not_returnable": "Este artículo no se puede devolver.",
        "err_failed": "Algo salió mal. Inténtalo de nuevo.",
    },
}


def strings(locale: str) -> dict[str, str]:
    return STRINGS.get(locale, STRINGS["en"])
