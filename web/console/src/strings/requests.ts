// My requests: an employee's requests to the company's internal desks (issue 12, F107).
export const en = {
  "nav.requests": "My requests",
  "requests.title": "My requests",
  "requests.noDesk": "There is no internal desk you may write to.",
  "requests.desk": "Desk",
  "requests.text": "What do you need?",
  "requests.send": "Send",
  "requests.list": "My requests",
  "requests.waiting": "Waiting",
  "requests.thread": "The request's messages",
  "requests.you": "You",
  "requests.reply": "Write more",
};

export const ru: Record<keyof typeof en, string> = {
  "nav.requests": "Мои заявки",
  "requests.title": "Мои заявки",
  "requests.noDesk": "Нет внутренних служб, в которые вы можете писать.",
  "requests.desk": "Служба",
  "requests.text": "Что нужно?",
  "requests.send": "Отправить",
  "requests.list": "Мои заявки",
  "requests.waiting": "Ждёт",
  "requests.thread": "Сообщения заявки",
  "requests.you": "Вы",
  "requests.reply": "Дописать",
};
