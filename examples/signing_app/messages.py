"""The signing page's own words, in English and Spanish.

Role and state names come from consentkit's template sets (``packets.words``); what is here is the
page's own text: instructions, the ESIGN disclosure, the intent statements, error pages. The Spanish
text awaits review by a qualified translator, like consentkit's es-US template set. A practice
has its counsel review its disclosure and intent statements, and changes ``ESIGN_VERSION`` whenever
the disclosure text changes (the version is recorded with every signature).

Placeholders in ``{braces}`` are filled with ``str.format``; the page escapes the result.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ESIGN_VERSION", "MESSAGES", "language_of", "messages"]

#: The version of the ESIGN disclosure below, recorded as ``esign_disclosure_version``.
ESIGN_VERSION = "signing-app-esign-2026-12"

_EN: dict[str, str] = {
    "title": "Sign your documents",
    "practice_contact": "{phone} · {email}",
    "skip": "Skip to the form",
    # the ESIGN disclosure (15 U.S.C. 7001(c)), shown before any document
    "esign_heading": "Consent to electronic records and signatures",
    "esign_intro": "{practice} asks you to read and sign your documents online. Before you do, please read this notice.",
    "esign_paper": "You may have these documents on paper instead, at no charge. To ask for paper, do not continue and contact us.",
    "esign_scope": "This consent covers the documents of this packet and your signatures on them.",
    "esign_withdraw": "You can withdraw this consent at any time by contacting us. Withdrawing does not undo documents you already signed electronically; from then on we give you documents on paper.",
    "esign_copy": "After signing you can download a copy. You can also ask us for a paper copy at any time, at no charge.",
    "esign_contact": "Tell us if your email address or phone number changes.",
    "esign_system": "You need a web browser that shows images and a program that opens PDF files. If you can open the PDF below, your device is ready.",
    "esign_pdf_link": "Open your documents as a PDF file",
    "esign_full_text": "Your packet also contains this consent in full: “{title}”.",
    "esign_agree": "I have read this notice. I agree to receive and sign these documents electronically.",
    "esign_continue": "Continue",
    # the documents
    "documents_heading": "Read your documents",
    "documents_intro": "Scroll through every page of every document. You can also read them as one PDF file, for example with a screen reader.",
    "documents_pdf_link": "Open all documents as one PDF file",
    "document_pages": "pages {first} to {last}",
    "document_page": "page {first}",
    "page_alt": "{title}, page {page} of {pages}",
    # the location
    "location_heading": "Where are you right now?",
    "location_intro": "The law of the state where you are applies to your care. Tell us where you are as you sign.",
    "address_label": "Street address, city and ZIP code",
    "state_label": "State",
    "state_choose": "Choose a state",
    "location_confirm": "I confirm that I am at this address now, while I sign.",
    # signing
    "sign_heading": "Sign",
    "signing_as": "You are signing as: {role}.",
    "documents_legend": "The documents you sign",
    "document_confirm": "I have read and I sign “{title}”",
    "name_label": "Your full name",
    "method_legend": "How do you want to sign?",
    "method_typed": "Type my name",
    "method_drawn": "Draw my signature",
    "pad_label": "Signature pad: draw your signature with a finger, a pen or the mouse.",
    "pad_help": "Draw inside the box. To sign with the keyboard only, choose “Type my name”.",
    "pad_clear": "Clear the drawing",
    "submit": "Sign",
    "submitting": "Signing…",
    "intent_typed": "By typing my name and selecting “Sign”, I sign these documents electronically. I intend my typed name to have the same effect as my handwritten signature.",
    "intent_drawn": "By drawing my signature and selecting “Sign”, I sign these documents electronically. I intend my drawn signature to have the same effect as my handwritten signature.",
    "intent_typed_assent": "By typing my name and selecting “Sign”, I show that I understand and agree to counseling (assent). My parent or guardian signs the consent.",
    "intent_drawn_assent": "By drawing my signature and selecting “Sign”, I show that I understand and agree to counseling (assent). My parent or guardian signs the consent.",
    "intent_typed_guardian": "By typing my name and selecting “Sign”, I sign these documents electronically as the client's parent or legal guardian, and I confirm that I may consent to their care.",
    "intent_drawn_guardian": "By drawing my signature and selecting “Sign”, I sign these documents electronically as the client's parent or legal guardian, and I confirm that I may consent to their care.",
    "intent_typed_clinician": "By typing my name and selecting “Sign”, I sign these documents electronically as the treating clinician.",
    "intent_drawn_clinician": "By drawing my signature and selecting “Sign”, I sign these documents electronically as the treating clinician.",
    # form errors
    "errors_heading": "Nothing was saved. Please fix the following:",
    "error_esign": "Agree to electronic records and signatures to continue.",
    "error_not_read": "Scroll through every page of your documents before you sign.",
    "error_name": "Type your full name.",
    "error_name_long": "Your name is too long (200 characters at most).",
    "error_name_characters": "Your name contains characters that cannot be used.",
    "error_method": "Choose how you want to sign.",
    "error_drawing": "Draw your signature in the box, or choose “Type my name”.",
    "error_drawing_invalid": "Your drawing could not be read. Clear it and draw again.",
    "error_address": "Type the address where you are now.",
    "error_address_long": "The address is too long (500 characters at most).",
    "error_state": "Choose the state where you are now.",
    "error_location_confirm": "Confirm that you are at this address now.",
    "error_state_mismatch": "These documents were prepared for sessions while you are in {expected}, and you said you are in {given}. Nothing was saved. Contact {practice}: they will prepare documents for where you are.",
    "error_documents": "Confirm that you have read and sign each document.",
    "error_record": "Your signature could not be saved ({detail}). Nothing was saved; please try again or contact us.",
    # error pages
    "link_unknown_title": "This signing link is not valid",
    "link_unknown_text": "Check that you opened the whole link from your message, or ask the practice for a new link.",
    "link_expired_title": "This signing link has expired",
    "link_expired_text": "Nothing was signed with it. Ask {practice} for a new link.",
    "link_used_title": "This signing link has already been used",
    "link_used_text": "Documents were signed with it on {when} (UTC). Each link works once. If you did not sign, contact {practice} right away.",
    "link_replaced_title": "This signing link was replaced by a newer one",
    "link_replaced_text": "Use the newest link {practice} sent you, or ask for a new one.",
    "signed_elsewhere_title": "These documents were already signed in another window",
    "signed_elsewhere_text": "Your documents were signed with this link on {when} (UTC), in another window or tab. This second signature was not saved, and nothing changed.",
    "form_changed_title": "This form was changed or is too old",
    "form_changed_text": "Nothing was saved. Open your signing link again and sign once more.",
    "too_large_title": "The form was too large",
    "too_large_text": "Nothing was saved. Clear your drawing, draw a smaller signature or type your name.",
    "back_to_signing": "Back to the signing page",
    # done
    "done_title": "Thank you, you have signed",
    "done_ready": "Everyone has signed. Your signed copy is ready.",
    "done_download": "Download your signed copy (PDF)",
    "done_waiting": "We are waiting for {count} more signature(s). Your signed copy will be ready here once everyone has signed: keep the address of this page.",
    "done_failed": "Your signature is saved. The practice will finish your documents and send you a copy.",
    "copy_unknown_title": "This copy link is not valid or has expired",
    "copy_unknown_text": "Ask {practice} for a copy of your signed documents.",
}

_ES: dict[str, str] = {
    "title": "Firme sus documentos",
    "practice_contact": "{phone} · {email}",
    "skip": "Ir al formulario",
    "esign_heading": "Consentimiento para registros y firmas electrónicos",
    "esign_intro": "{practice} le pide que lea y firme sus documentos en línea. Antes de hacerlo, lea este aviso.",
    "esign_paper": "Puede recibir estos documentos en papel, sin costo. Para pedirlos en papel, no continúe y comuníquese con nosotros.",
    "esign_scope": "Este consentimiento abarca los documentos de este paquete y sus firmas en ellos.",
    "esign_withdraw": "Puede retirar este consentimiento en cualquier momento comunicándose con nosotros. Retirarlo no anula los documentos que ya firmó electrónicamente; a partir de entonces le daremos los documentos en papel.",
    "esign_copy": "Después de firmar puede descargar una copia. También puede pedirnos una copia en papel en cualquier momento, sin costo.",
    "esign_contact": "Avísenos si cambia su correo electrónico o su número de teléfono.",
    "esign_system": "Necesita un navegador web que muestre imágenes y un programa que abra archivos PDF. Si puede abrir el PDF de abajo, su dispositivo está listo.",
    "esign_pdf_link": "Abrir sus documentos en un archivo PDF",
    "esign_full_text": "Su paquete también incluye este consentimiento completo: «{title}».",
    "esign_agree": "Leí este aviso. Acepto recibir y firmar estos documentos electrónicamente.",
    "esign_continue": "Continuar",
    "documents_heading": "Lea sus documentos",
    "documents_intro": "Recorra todas las páginas de todos los documentos. También puede leerlos en un solo archivo PDF, por ejemplo con un lector de pantalla.",
    "documents_pdf_link": "Abrir todos los documentos en un solo archivo PDF",
    "document_pages": "páginas {first} a {last}",
    "document_page": "página {first}",
    "page_alt": "{title}, página {page} de {pages}",
    "location_heading": "¿Dónde está usted en este momento?",
    "location_intro": "La ley del estado donde usted está se aplica a su atención. Díganos dónde está mientras firma.",
    "address_label": "Dirección, ciudad y código postal",
    "state_label": "Estado",
    "state_choose": "Elija un estado",
    "location_confirm": "Confirmo que estoy en esta dirección ahora, mientras firmo.",
    "sign_heading": "Firmar",
    "signing_as": "Usted firma como: {role}.",
    "documents_legend": "Los documentos que usted firma",
    "document_confirm": "Leí y firmo «{title}»",
    "name_label": "Su nombre completo",
    "method_legend": "¿Cómo quiere firmar?",
    "method_typed": "Escribir mi nombre",
    "method_drawn": "Dibujar mi firma",
    "pad_label": "Área de firma: dibuje su firma con el dedo, un lápiz o el ratón.",
    "pad_help": "Dibuje dentro del recuadro. Para firmar solo con el teclado, elija «Escribir mi nombre».",
    "pad_clear": "Borrar el dibujo",
    "submit": "Firmar",
    "submitting": "Firmando…",
    "intent_typed": "Al escribir mi nombre y seleccionar «Firmar», firmo estos documentos electrónicamente. Quiero que mi nombre escrito tenga el mismo efecto que mi firma a mano.",
    "intent_drawn": "Al dibujar mi firma y seleccionar «Firmar», firmo estos documentos electrónicamente. Quiero que mi firma dibujada tenga el mismo efecto que mi firma a mano.",
    "intent_typed_assent": "Al escribir mi nombre y seleccionar «Firmar», muestro que entiendo y acepto recibir consejería (asentimiento). Mi padre, madre o tutor firma el consentimiento.",
    "intent_drawn_assent": "Al dibujar mi firma y seleccionar «Firmar», muestro que entiendo y acepto recibir consejería (asentimiento). Mi padre, madre o tutor firma el consentimiento.",
    "intent_typed_guardian": "Al escribir mi nombre y seleccionar «Firmar», firmo estos documentos electrónicamente como padre, madre o tutor legal del cliente, y confirmo que puedo dar el consentimiento para su atención.",
    "intent_drawn_guardian": "Al dibujar mi firma y seleccionar «Firmar», firmo estos documentos electrónicamente como padre, madre o tutor legal del cliente, y confirmo que puedo dar el consentimiento para su atención.",
    "intent_typed_clinician": "Al escribir mi nombre y seleccionar «Firmar», firmo estos documentos electrónicamente como terapeuta a cargo.",
    "intent_drawn_clinician": "Al dibujar mi firma y seleccionar «Firmar», firmo estos documentos electrónicamente como terapeuta a cargo.",
    "errors_heading": "No se guardó nada. Corrija lo siguiente:",
    "error_esign": "Acepte los registros y firmas electrónicos para continuar.",
    "error_not_read": "Recorra todas las páginas de sus documentos antes de firmar.",
    "error_name": "Escriba su nombre completo.",
    "error_name_long": "Su nombre es demasiado largo (200 caracteres como máximo).",
    "error_name_characters": "Su nombre contiene caracteres que no se pueden usar.",
    "error_method": "Elija cómo quiere firmar.",
    "error_drawing": "Dibuje su firma en el recuadro, o elija «Escribir mi nombre».",
    "error_drawing_invalid": "No se pudo leer su dibujo. Bórrelo y dibuje de nuevo.",
    "error_address": "Escriba la dirección donde está ahora.",
    "error_address_long": "La dirección es demasiado larga (500 caracteres como máximo).",
    "error_state": "Elija el estado donde está ahora.",
    "error_location_confirm": "Confirme que está en esta dirección ahora.",
    "error_state_mismatch": "Estos documentos se prepararon para sesiones mientras usted está en {expected}, y usted indicó que está en {given}. No se guardó nada. Comuníquese con {practice}: le prepararán documentos para donde usted está.",
    "error_documents": "Confirme que leyó y firma cada documento.",
    "error_record": "No se pudo guardar su firma ({detail}). No se guardó nada; inténtelo de nuevo o comuníquese con nosotros.",
    "link_unknown_title": "Este enlace de firma no es válido",
    "link_unknown_text": "Compruebe que abrió el enlace completo de su mensaje, o pida un enlace nuevo al consultorio.",
    "link_expired_title": "Este enlace de firma venció",
    "link_expired_text": "No se firmó nada con él. Pida un enlace nuevo a {practice}.",
    "link_used_title": "Este enlace de firma ya se usó",
    "link_used_text": "Se firmaron documentos con él el {when} (UTC). Cada enlace funciona una sola vez. Si usted no firmó, comuníquese con {practice} de inmediato.",
    "link_replaced_title": "Este enlace de firma fue reemplazado por uno más reciente",
    "link_replaced_text": "Use el enlace más reciente que le envió {practice}, o pida uno nuevo.",
    "signed_elsewhere_title": "Estos documentos ya se firmaron en otra ventana",
    "signed_elsewhere_text": "Sus documentos se firmaron con este enlace el {when} (UTC), en otra ventana o pestaña. Esta segunda firma no se guardó y nada cambió.",
    "form_changed_title": "Este formulario fue modificado o es demasiado antiguo",
    "form_changed_text": "No se guardó nada. Abra de nuevo su enlace de firma y firme otra vez.",
    "too_large_title": "El formulario era demasiado grande",
    "too_large_text": "No se guardó nada. Borre su dibujo, dibuje una firma más pequeña o escriba su nombre.",
    "back_to_signing": "Volver a la página de firma",
    "done_title": "Gracias, usted ya firmó",
    "done_ready": "Todos firmaron. Su copia firmada está lista.",
    "done_download": "Descargar su copia firmada (PDF)",
    "done_waiting": "Esperamos {count} firma(s) más. Su copia firmada estará lista aquí cuando todos hayan firmado: guarde la dirección de esta página.",
    "done_failed": "Su firma está guardada. El consultorio terminará sus documentos y le enviará una copia.",
    "copy_unknown_title": "Este enlace de copia no es válido o venció",
    "copy_unknown_text": "Pida a {practice} una copia de sus documentos firmados.",
}

MESSAGES: Mapping[str, Mapping[str, str]] = {"en": _EN, "es": _ES}


def language_of(locale: str) -> str:
    """The page language for a locale: ``es`` for any Spanish locale, otherwise ``en``."""
    return "es" if locale.lower().startswith("es") else "en"


def messages(locale: str) -> Mapping[str, str]:
    """The page's words for ``locale``."""
    return MESSAGES[language_of(locale)]
